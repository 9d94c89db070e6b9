import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// Stored Greenhouse deliveries mapped to canonical events in the inbox (`serve` does this after
/// each acknowledgement): each application's `new_candidate_application`, remembered for its
/// application, then its id-only `offer_created`, filled from what the first said; and the same
/// out of order (every offer first, waiting in review until its application comes and heals
/// it). Mapping has to keep up with intake, or deliveries wait unmapped under load.
struct MapBenchmark {
    let project: CompiledProject

    /// The bundled payload `name` with its application (and candidate) ids replaced by `n`'s.
    static func payload(_ name: String, _ n: Int) -> [UInt8] {
        let path = "examples/payloads/greenhouse/\(name).json"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Array(text.replacingOccurrences(of: "77120455", with: String(90_000_000 + n))
            .replacingOccurrences(of: "48213907", with: String(50_000_000 + n)).utf8)
    }

    func run() -> [BenchResult] {
        [run(offersFirst: false), run(offersFirst: true)]
    }

    func run(offersFirst: Bool) -> BenchResult {
        let applications = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_APPLICATIONS"].flatMap { Int($0) } ?? 2000
        let root = NSTemporaryDirectory() + "hirewire-bench-map-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard let store = try? SQLiteStore(path: root + "/hirewire.db"),
              let engine = try? JourneyEngine(project: project, store: store, env: StepBenchmark.env)
        else { return BenchResult(name: "map deliveries", median: 0, unit: "deliveries/s", target: 0, detail: "cannot open store") }
        let now = Date()
        var deliveries: [Delivery] = []
        let kinds = [("a", "new_candidate_application"), ("o", "offer_created")]
        for (kind, name) in offersFirst ? kinds.reversed() : kinds {
            for n in 0..<applications {
                deliveries.append(Delivery(source: "greenhouse", eventId: "\(kind)\(n)", receivedAt: now, headers: [:], body: Self.payload(name, n)))
            }
        }
        for start in stride(from: 0, to: deliveries.count, by: 500) {
            _ = try? store.appendDeliveries(Array(deliveries[start..<min(start + 500, deliveries.count)]))
        }
        var mapped = 0
        // Each offer sent to review logs a line on stderr, as `serve` does: written (the cost is
        // part of mapping), but to /dev/null, not over the benchmark's report.
        let savedStderr = dup(2)
        let devNull = open("/dev/null", O_WRONLY)
        if devNull >= 0 { dup2(devNull, 2) }
        let elapsed = seconds { mapped = (try? engine.mapDeliveries(sources: project.sources, now: now)) ?? 0 }
        if savedStderr >= 0 { dup2(savedStderr, 2); close(savedStderr) }
        if devNull >= 0 { close(devNull) }
        let review = (try? store.deadLetterCount()) ?? -1
        let inbox = (try? store.pendingInbox(limit: Int.max).count) ?? -1
        let order = offersFirst ? "\(applications) id-only offers, then their applications healing them" : "\(applications) applications, then their id-only offers filled from them"
        return BenchResult(name: offersFirst ? "map deliveries out of order" : "map deliveries to events", median: Double(mapped) / elapsed,
                           unit: "deliveries/s", target: 0,
                           detail: "(\(mapped) Greenhouse deliveries mapped: \(order); \(inbox) events in the inbox, \(review) in review)", higherIsBetter: true)
    }
}
