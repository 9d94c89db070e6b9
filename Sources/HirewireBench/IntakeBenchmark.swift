import Foundation
import HirewireConnectors
import HirewireIntake
import HirewireLanguage
import HirewireStore

/// Signed Standard Webhooks deliveries (unique ids, 1 KiB JSON) over loopback into the real
/// intake and server, each acknowledged only after its group commit (SQLite WAL, synchronous=FULL).
/// The load generator is libcurl on keep-alive connections in this process, so it shares the two
/// cores with the server. Targets: 50,000/s; p99 acknowledgement under 5 ms at 10,000/s.
struct IntakeBenchmark {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// Keep-alive connections (each with a server thread); HIREWIRE_BENCH_CONNECTIONS overrides.
    var connections = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_CONNECTIONS"].flatMap(Int.init) ?? 32
    var seconds = 5.0

    /// A project with one Standard Webhooks source, in a temporary folder.
    static func project(at root: String) -> CompiledProject {
        try? FileManager.default.createDirectory(atPath: root + "/sources", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try? "{}\n".write(toFile: root + "/hirewire.yaml", atomically: true, encoding: .utf8)
        try? """
            source: bench
            signature: {scheme: standard-webhooks, secret: env.BENCH_SECRET}
            event_id: header("webhook-id")
            events:
              - when: body.type == "candidate.hired"
                type: candidate.hired
                data: {application.id: string(body.application)}
            """.write(toFile: root + "/sources/bench.yaml", atomically: true, encoding: .utf8)
        return ProjectCompiler.compile(root: root)
    }

    /// About 1 KiB of JSON.
    static let padding = String(repeating: "x", count: 900)
    static func body(_ n: Int) -> [UInt8] {
        return Array(#"{"type": "candidate.hired", "application": \#(n), "note": "\#(padding)"}"#.utf8)
    }

    /// A delivery whose id is `n` with `tag`, the load's own prefix: one `UUID()` per load, not
    /// per request (on Linux each opens and reads /dev/urandom, a cost of the load generator
    /// that the server it measures would pay for on the shared cores).
    static func request(port: UInt16, n: Int, tag: Substring) -> OutboundRequest {
        let id = "msg_\(n)_\(tag)"
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let body = body(n)
        let signature = StandardWebhooks.sign(secret: secret, id: id, timestamp: timestamp, body: body) ?? ""
        return OutboundRequest(url: "http://127.0.0.1:\(port)/hooks/bench",
                               headers: [("Content-Type", "application/json"), ("webhook-id", id),
                                         ("webhook-timestamp", timestamp), ("webhook-signature", signature)],
                               body: body)
    }

    /// The store alone: acknowledgement rows (1 KiB bodies) in batches, no HTTP.
    static func storeOnly(batch: Int) -> Double {
        let root = NSTemporaryDirectory() + "hirewire-bench-acks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard let store = try? SQLiteStore(path: root + "/hirewire.db") else { return 0 }
        var n = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while DispatchTime.now().uptimeNanoseconds - start < 2_000_000_000 {
            let deliveries = (0..<batch).map { i in
                Delivery(source: "bench", eventId: "e\(n + i)", receivedAt: Date(),
                         headers: ["content-type": "application/json", "webhook-id": "e\(n + i)", "webhook-timestamp": "1700000000",
                                   "webhook-signature": "v1,abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG="], body: body(n + i))
            }
            _ = try? store.appendDeliveries(deliveries)
            n += batch
        }
        return Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    func run() -> [BenchResult] {
        if ProcessInfo.processInfo.environment["HIREWIRE_BENCH_STORE_ONLY"] != nil {
            for batch in [1, 16, 64, 500] { print("store only, batch \(batch): \(Int(Self.storeOnly(batch: batch))) deliveries/s") }
        }
        let root = NSTemporaryDirectory() + "hirewire-bench-intake-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let project = Self.project(at: root)
        guard let store = try? SQLiteStore(path: root + "/hirewire.db") else { return [] }
        let intake = Intake(project: project, store: store, env: ["BENCH_SECRET": Self.secret], maxPending: nil)
        var limits = HTTPLimits()
        limits.threads = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_THREADS"].flatMap(Int.init) ?? 2
        let bare = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_BARE"] != nil
        let server: HTTPServer
        do {
            let sync = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_SYNC"] != nil
            server = bare ? try HTTPServer(port: 0, limits: limits, handler: bareAnswer)
                   : sync ? try HTTPServer(port: 0, limits: limits, handler: intake.handle)
                          : try HTTPServer(port: 0, limits: limits, deferred: { request, responder in intake.handle(request, responder: responder) })
        } catch { return [] }
        defer { server.stop(); intake.stop() }

        // Closed loop: every connection sends its next delivery as soon as the previous is answered.
        let pacedOnly = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_PACED_ONLY"] != nil
        let saturated = pacedOnly ? (rate: 0.0, ok: 0, errors: 0, latencies: [Double]()) : load(port: server.port, perConnection: nil)
        let batches = Double(intake.committer.written) / Double(max(1, intake.committer.batches))
        let busy = intake.committer.busySeconds / seconds
        let cpu = intake.committer.cpuSeconds / seconds
        // Open loop at 10,000/s: latency counted from each request's scheduled moment.
        let rate = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_RATE"].flatMap(Double.init) ?? 10_000
        let (busyBefore, batchesBefore) = (intake.committer.busySeconds, intake.committer.batches)
        let paced = load(port: server.port, perConnection: rate / Double(connections))
        let commitMs = (intake.committer.busySeconds - busyBefore) / Double(max(1, intake.committer.batches - batchesBefore)) * 1000
        let stored = (try? store.depths().deliveries) ?? 0
        let p = { (values: [Double], q: Double) in values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * q))] * 1000 }
        return [
            BenchResult(name: "intake, signed deliveries durably acknowledged", median: saturated.rate, unit: "deliveries/s", target: 50_000,
                        detail: String(format: "(%d connections, %d answered 202, %d errors, %.1f per group commit, committer busy %.0f%% (CPU %.0f%%), p50 %.2f ms, p99 %.2f ms; %d stored)",
                                       connections, saturated.ok, saturated.errors, batches, busy * 100, cpu * 100, p(saturated.latencies, 0.5), p(saturated.latencies, 0.99), stored),
                        higherIsBetter: true),
            BenchResult(name: "intake p99 acknowledgement at \(Int(rate))/s offered", median: p(paced.latencies, 0.99), unit: "ms", target: 5,
                        detail: String(format: "(%.0f/s reached, p50 %.2f ms, %d errors, %.2f ms per commit)", paced.rate, p(paced.latencies, 0.5), paced.errors, commitMs)),
        ]
    }

    /// Sends for `seconds` on every connection; with `perConnection` (requests/s) each connection
    /// keeps to a schedule, otherwise it sends flat out.
    func load(port: UInt16, perConnection: Double?) -> (rate: Double, ok: Int, errors: Int, latencies: [Double]) {
        let results = LoadResults()
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        let end = start + UInt64(seconds * 1e9)
        let tag = UUID().uuidString.prefix(8)
        for c in 0..<connections {
            group.enter()
            let thread = Thread {
                // Flat out, the load generator yields to the server it measures (they share two
                // cores): on Linux, setpriority with who = 0 renices just the calling thread. Paced,
                // it keeps normal priority so its own timing stays honest.
                if perConnection == nil { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
                let client = CurlHTTPClient()
                var latencies: [Double] = []
                var ok = 0, errors = 0, n = 0
                while true {
                    var scheduled = DispatchTime.now().uptimeNanoseconds
                    if let rate = perConnection {
                        scheduled = start + UInt64(Double(n) / rate * 1e9)
                        let now = DispatchTime.now().uptimeNanoseconds
                        if scheduled > now { usleep(UInt32((scheduled - now) / 1000)) }
                    }
                    if scheduled >= end { break }
                    let request = Self.request(port: port, n: c * 10_000_000 + n, tag: tag)
                    n += 1
                    let status = (try? client.perform(request))?.status ?? 0
                    let done = DispatchTime.now().uptimeNanoseconds
                    if status == 202 { ok += 1 } else { errors += 1 }
                    latencies.append(Double(done - scheduled) / 1e9)
                }
                results.add(ok: ok, errors: errors, latencies: latencies)
                group.leave()
            }
            thread.start()
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let all = results.snapshot
        return (Double(all.ok) / elapsed, all.ok, all.errors, all.latencies.sorted())
    }
}

/// Per-connection results gathered from the load threads.
final class LoadResults: @unchecked Sendable {
    // @unchecked: every field is only touched under `lock`.
    private let lock = NSLock()
    private var ok = 0, errors = 0
    private var latencies: [Double] = []
    func add(ok: Int, errors: Int, latencies: [Double]) {
        lock.lock()
        self.ok += ok
        self.errors += errors
        self.latencies += latencies
        lock.unlock()
    }
    var snapshot: (ok: Int, errors: Int, latencies: [Double]) {
        lock.lock()
        defer { lock.unlock() }
        return (ok, errors, latencies)
    }
}

/// The cheapest possible answer, to measure the server and the load generator alone.
@Sendable func bareAnswer(_ request: HTTPRequest) -> HTTPResponse {
    HTTPResponse(status: 202, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
}
