import Foundation
import HirewireConnectors
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore

/// Dispatcher overhead per action to a local HTTP sink (the dispatcher's time per action minus
/// a bare libcurl request to the same sink), and SMTP throughput to a local aiosmtpd server.
struct DispatchBenchmark {
    let count = 2000

    func enqueue(_ store: SQLiteStore, connector: String, arguments: (Int) -> Value) throws {
        let stamp = Timestamp.format(Date())
        var batch: [StepCommit] = []
        for i in 0..<count {
            var result = StepResult(journey: Journey(encoded: ["id": .string("jrn_\(i)"), "flow": "f", "version": "v", "key": .string("k\(i)"),
                                                               "state": "s", "entered_at": .string(stamp), "entry": 1, "started_at": .string(stamp), "seq": 2]))
            result.actions = [PlannedAction(connector: connector, arguments: arguments(i), idempotencyKey: "jrn_\(i):2:states.s.do[0]",
                                            path: "states.s.do[0]", audience: .team, template: nil, retryAttempts: nil, retryBackoff: nil,
                                            entry: 1, order: 0, candidate: nil)]
            result.timeline = [TimelineEntry(at: Date(), flow: "f", journey: "jrn_\(i)", key: "k\(i)", kind: "action", fields: [:])]
            batch.append(StepCommit(result: result))
        }
        try store.commit(batch, processedInbox: [], ignored: [])
    }

    func run() -> [BenchResult] {
        let root = NSTemporaryDirectory() + "hirewire-bench-dispatch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var out: [BenchResult] = []
        let environment = ConnectorEnvironment(root: root, settings: [:], env: [:], allowPrivateNetworks: true)
        guard let sink = try? HTTPServer(port: 0, handler: { _ in HTTPResponse(status: 200, headers: [], body: Array("{}".utf8)) }),
              let store = try? SQLiteStore(path: root + "/http.db") else { return [] }
        defer { sink.stop() }
        let url = "http://127.0.0.1:\(sink.port)/sink"
        // Baseline: the same requests with libcurl alone, one after another.
        let client = CurlHTTPClient()
        let bare = seconds {
            for i in 0..<count { _ = try? client.perform(OutboundRequest(method: "POST", url: url, body: Array("{\"n\": \(i)}".utf8))) }
        } / Double(count)
        try? enqueue(store, connector: "http", arguments: { i in ["method": "POST", "url": .string(url), "body": ["n": .number(Double(i))]] })
        let dispatcher = ActionDispatcher(store: store, connectors: [HTTPConnector(environment: environment)])
        let dispatched = seconds { blockingRun { await dispatcher.runOnce() } } / Double(count)
        let sent = (try? store.connectorStats(since: .distantPast).first?.sent) ?? 0
        out.append(BenchResult(name: "dispatcher, http action to a local sink", median: dispatched * 1e6, unit: "µs/action", target: 0,
                               detail: String(format: "(%d sent, 4 at a time; a bare libcurl request takes %.0f µs one at a time; the rest is the claim, the SSRF check and the batched record of outcomes)",
                                              sent, bare * 1e6)))

        // SMTP: the email connector into aiosmtpd on loopback (skipped when it is not installed).
        let port = UInt16.random(in: 20_000...40_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["Tests/Support/smtp_sink.py", String(port), root + "/mail"]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return out }
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var seen = Data()
        for _ in 0..<100 where !String(decoding: seen, as: UTF8.self).contains("ready") { seen += output.fileHandleForReading.availableData }
        guard let mailStore = try? SQLiteStore(path: root + "/smtp.db") else { return out }
        try? enqueue(mailStore, connector: "email", arguments: { i in
            ["to": .string("candidate\(i)@example.com"), "subject": "Your application", "text": .string("Hello \(i),\nthanks for applying."),
             "html": .string("<p>Hello \(i),</p><p>thanks for applying.</p>")]
        })
        let email = EmailConnector(environment: ConnectorEnvironment(root: root, settings: ["email": ["smtp": ["url": .string("smtp://127.0.0.1:\(port)")]]],
                                                                     env: [:], allowPrivateNetworks: true))
        let mailer = ActionDispatcher(store: mailStore, connectors: [email])
        let elapsed = seconds { blockingRun { await mailer.runOnce() } }
        let delivered = (try? mailStore.connectorStats(since: .distantPast).first?.sent) ?? 0
        out.append(BenchResult(name: "SMTP throughput to a local aiosmtpd", median: Double(delivered) / elapsed, unit: "emails/s", target: 0,
                               detail: "(\(delivered) multipart emails, 4 connections at a time, a new SMTP session each)", higherIsBetter: true))
        return out
    }
}

/// Runs async work to completion from synchronous benchmark code.
func blockingRun(_ work: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await work()
        done.signal()
    }
    done.wait()
}
