import Foundation
import Synchronization

/// Counters for `GET /metrics` in Prometheus' text format.
public final class IntakeMetrics: Sendable {
    private let counters = Mutex<[String: Double]>([:])

    public init() {}

    /// Adds to a counter; `labels` become `{name="value",…}` in stable order.
    public func add(_ name: String, _ labels: [String: String] = [:], by amount: Double = 1) {
        let key = IntakeMetrics.key(name, labels)
        counters.withLock { $0[key, default: 0] += amount }
    }

    static func key(_ name: String, _ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return name }
        if labels.count == 1, let (k, v) = labels.first, !v.contains("\"") { return "\(name){\(k)=\"\(v)\"}" }
        let parts = labels.keys.sorted().map { k in "\(k)=\"\((labels[k] ?? "").replacingOccurrences(of: "\"", with: "\\\""))\"" }
        return "\(name){\(parts.joined(separator: ","))}"
    }

    /// The exposition text, with `gauges` (name → value) read at scrape time.
    public func render(gauges: [String: Double] = [:]) -> String {
        let snapshot = counters.withLock { $0 }
        var lines: [String] = []
        var typed: Set<String> = []
        for key in snapshot.keys.sorted() {
            let name = String(key.prefix { $0 != "{" })
            if typed.insert(name).inserted { lines.append("# TYPE \(name) counter") }
            lines.append("\(key) \(format(snapshot[key] ?? 0))")
        }
        for name in gauges.keys.sorted() {
            lines.append("# TYPE \(name) gauge")
            lines.append("\(name) \(format(gauges[name] ?? 0))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}
