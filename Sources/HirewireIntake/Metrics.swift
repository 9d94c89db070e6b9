import Foundation
import Synchronization

/// Counters and histograms for `GET /metrics` in Prometheus' text format (version 0.0.4).
public final class IntakeMetrics: Sendable {
    private let counters = Mutex<[String: Double]>([:])
    private let histograms = Mutex<[String: Histogram]>([:])

    /// One histogram series: cumulative counts at each upper bound, the sum and the count.
    struct Histogram: Sendable {
        var name: String
        var labels: [String: String]
        var bounds: [Double]
        var counts: [Double]
        var sum = 0.0
        var count = 0.0

        /// A series with nothing observed yet.
        init(name: String, labels: [String: String], bounds: [Double]) {
            self.name = name
            self.labels = labels
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }
    }

    public init() {}

    /// Adds to a counter; `labels` become `{name="value",…}` in stable order.
    public func add(_ name: String, _ labels: [String: String] = [:], by amount: Double = 1) {
        let key = IntakeMetrics.key(name, labels)
        counters.withLock { $0[key, default: 0] += amount }
    }

    /// Sets a counter that is kept elsewhere (read at scrape time) to its current total.
    public func set(_ name: String, _ labels: [String: String] = [:], to total: Double) {
        let key = IntakeMetrics.key(name, labels)
        counters.withLock { $0[key] = total }
    }

    /// Shows a counter at 0 before anything counted it (a scrape then tells "none yet" from "not
    /// measured").
    public func declare(_ name: String, _ labels: [String: String] = [:]) {
        let key = IntakeMetrics.key(name, labels)
        counters.withLock { if $0[key] == nil { $0[key] = 0 } }
    }

    /// Records `value` in the histogram `name` (`_bucket`, `_sum` and `_count` series) with the
    /// upper bounds `buckets` (ascending; `+Inf` is added). A series keeps the bounds it was
    /// first given.
    public func observe(_ name: String, _ labels: [String: String] = [:], value: Double, buckets: [Double]) {
        let key = IntakeMetrics.key(name, labels)
        histograms.withLock { all in
            var h = all[key] ?? Histogram(name: name, labels: labels, bounds: buckets)
            for (i, bound) in h.bounds.enumerated() where value <= bound { h.counts[i] += 1 }
            h.sum += value
            h.count += 1
            all[key] = h
        }
    }

    /// Shows a histogram with every bucket at 0 before its first observation.
    public func declare(histogram name: String, _ labels: [String: String] = [:], buckets: [Double]) {
        let key = IntakeMetrics.key(name, labels)
        histograms.withLock { all in
            if all[key] == nil { all[key] = Histogram(name: name, labels: labels, bounds: buckets) }
        }
    }

    static func key(_ name: String, _ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return name }
        if labels.count == 1, let (k, v) = labels.first, !v.utf8.contains(where: { $0 == 34 || $0 == 92 || $0 == 10 }) { return "\(name){\(k)=\"\(v)\"}" }
        let parts = labels.keys.sorted().map { k in "\(k)=\"\(escaped(labels[k] ?? ""))\"" }
        return "\(name){\(parts.joined(separator: ","))}"
    }

    /// A label value as the text format writes it: backslash, double quote and line feed escaped.
    static func escaped(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// The exposition text, with `gauges` (name → value) read at scrape time.
    public func render(gauges: [String: Double] = [:]) -> String { Self.render([self], gauges: gauges) }

    /// One exposition of several parts' metrics (intake, engine, dispatcher): a series that more
    /// than one part counts (dead letters, at render time and at delivery) is summed, so each
    /// name has one `# TYPE` line and each series one sample, as the format requires.
    public static func render(_ parts: [IntakeMetrics], gauges: [String: Double] = [:]) -> String {
        var snapshot: [String: Double] = [:]
        var series: [String: Histogram] = [:]
        for part in parts {
            for (key, value) in part.counters.withLock({ $0 }) { snapshot[key, default: 0] += value }
            for (key, h) in part.histograms.withLock({ $0 }) {
                guard var merged = series[key], merged.bounds == h.bounds else {
                    if series[key] == nil { series[key] = h }
                    continue
                }
                for i in merged.counts.indices { merged.counts[i] += h.counts[i] }
                merged.sum += h.sum
                merged.count += h.count
                series[key] = merged
            }
        }
        var lines: [String] = []
        var typed: Set<String> = []
        for key in snapshot.keys.sorted() {
            let name = String(key.prefix { $0 != "{" })
            if typed.insert(name).inserted { lines.append("# TYPE \(name) counter") }
            lines.append("\(key) \(Self.format(snapshot[key] ?? 0))")
        }
        for key in series.keys.sorted() {
            guard let h = series[key] else { continue }
            if typed.insert(h.name).inserted { lines.append("# TYPE \(h.name) histogram") }
            for (i, bound) in h.bounds.enumerated() {
                lines.append("\(IntakeMetrics.key(h.name + "_bucket", h.labels.merging(["le": Self.format(bound)]) { a, _ in a })) \(Self.format(h.counts[i]))")
            }
            lines.append("\(IntakeMetrics.key(h.name + "_bucket", h.labels.merging(["le": "+Inf"]) { a, _ in a })) \(Self.format(h.count))")
            lines.append("\(IntakeMetrics.key(h.name + "_sum", h.labels)) \(Self.format(h.sum))")
            lines.append("\(IntakeMetrics.key(h.name + "_count", h.labels)) \(Self.format(h.count))")
        }
        for name in gauges.keys.sorted() {
            lines.append("# TYPE \(name) gauge")
            lines.append("\(name) \(Self.format(gauges[name] ?? 0))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}
