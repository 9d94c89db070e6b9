import Foundation
import Synchronization
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore
import HirewireTestSupport

/// The dispatcher on a real SQLite store against a real HTTP sink and a real SMTP server.
final class DispatcherTests: XCTestCase {
    var dir = ""
    var store: SQLiteStore!
    override func setUpWithError() throws {
        dir = temporaryFolder("dispatch")
        store = try SQLiteStore(path: dir + "/hirewire.db")
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Puts actions in the outbox the way a committed step does.
    func enqueue(_ actions: [PlannedAction], journey: String = "jrn_1", at: Date = Date()) throws {
        let stamp = Timestamp.format(at)
        var result = StepResult(journey: Journey(encoded: ["id": .string(journey), "flow": "f", "version": "v1", "key": "k", "state": "s",
                                                           "entered_at": .string(stamp), "entry": 1, "started_at": .string(stamp), "seq": 2]))
        result.actions = actions
        result.timeline = [TimelineEntry(at: at, flow: "f", journey: journey, key: "k", kind: "action", fields: [:])]
        try store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
    }

    func action(_ connector: String, _ args: Value, path: String = "states.s.do[0]", seq: Int = 2, order: Int = 0, attempts: Int? = nil) -> PlannedAction {
        PlannedAction(connector: connector, arguments: args, idempotencyKey: "jrn_1:\(seq):\(path)", path: path, audience: .team, template: nil,
                      retryAttempts: attempts, retryBackoff: nil, entry: 1, order: order, candidate: nil)
    }

    func environment() -> ConnectorEnvironment {
        ConnectorEnvironment(root: dir, settings: [:], env: [:], allowPrivateNetworks: true)
    }

    func testPermanent4xxDeadLettersAtOnceAnd5xxIsRetriedUntilItSucceeds() async throws {
        let calls = Mutex<[String: Int]>([:])
        let sink = try HTTPServer(port: 0) { request in
            let n = calls.withLock { c -> Int in c[request.path, default: 0] += 1; return c[request.path] ?? 0 }
            if request.path == "/gone" { return .json(404, #"{"error": "no such hook"}"#) }
            if request.path == "/flaky" { return n < 3 ? .json(503, "{}") : .json(200, #"{"ok": true}"#) }
            return .json(200, "{}")
        }
        defer { sink.stop() }
        try enqueue([action("http", ["method": "POST", "url": .string("http://127.0.0.1:\(sink.port)/gone"), "body": ["a": 1]], path: "states.s.do[0]", seq: 2),
                     action("http", ["method": "POST", "url": .string("http://127.0.0.1:\(sink.port)/flaky")], path: "states.t.do[0]", seq: 3)])
        let dead = Mutex<[String]>([])
        let dispatcher = ActionDispatcher(store: store, connectors: [HTTPConnector(environment: environment())],
                                          policy: RetryPolicy(attempts: 5, base: 0.05, cap: 0.1), onDead: { item, _ in dead.withLock { $0.append(item.action.path) } })
        for _ in 0..<40 {
            await dispatcher.runOnce()
            if try store.outboxRows(journey: nil).allSatisfy({ $0.status == "sent" || $0.status == "dead" }) { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let rows = try store.outboxRows(journey: nil)
        let gone = try XCTUnwrap(rows.first { $0.item.action.path == "states.s.do[0]" })
        XCTAssertEqual(gone.status, "dead")
        XCTAssertEqual(gone.item.attempts, 1, "a permanent failure is not retried")
        XCTAssertTrue(gone.lastError?.contains("answered 404") ?? false, gone.lastError ?? "")
        XCTAssertTrue(gone.lastError?.contains("permanent") ?? false, gone.lastError ?? "")
        let flaky = try XCTUnwrap(rows.first { $0.item.action.path == "states.t.do[0]" })
        XCTAssertEqual(flaky.status, "sent")
        XCTAssertEqual(flaky.item.attempts, 3)
        XCTAssertEqual(calls.withLock { $0["/flaky"] }, 3)
        XCTAssertEqual(calls.withLock { $0["/gone"] }, 1)
        XCTAssertEqual(dead.withLock { $0 }, ["states.s.do[0]"])
        // It is a dead letter with its reason, and replay queues it with fresh attempts.
        let letters = try store.deadLetters(limit: 10)
        XCTAssertEqual(letters.map(\.kind), [.action])
        XCTAssertTrue(letters[0].reason.contains("404"))
        XCTAssertTrue(try store.requeueDeadLetter(.action, letters[0].number, at: Date()))
        XCTAssertEqual(try store.claimActions(now: Date(), limit: 10).map(\.action.path), ["states.s.do[0]"])
        let stats = try store.connectorStats(since: .distantPast)
        XCTAssertEqual(stats.first?.sent, 1)
        XCTAssertEqual(stats.first?.dead, 1)
        XCTAssertEqual(stats.first?.retried, 2)
        XCTAssertEqual(stats.first?.deliveryRate, 0.5)
    }

    func testAnOutageEndsWithExactlyOneDeliveryAfterRetries() async throws {
        let port = freePort()
        try enqueue([action("email", ["to": "ada@example.com", "subject": "Hello", "text": "Hi"])])
        let email = EmailConnector(environment: ConnectorEnvironment(root: dir, settings: ["email": ["smtp": ["url": .string("smtp://127.0.0.1:\(port)")]]],
                                                                     env: [:], allowPrivateNetworks: true), timeout: 5)
        let dispatcher = ActionDispatcher(store: store, connectors: [email], policy: RetryPolicy(attempts: 50, base: 0.05, cap: 0.2))
        // The server is down: attempts fail and are retried with backoff.
        for _ in 0..<10 {
            await dispatcher.runOnce()
            try await Task.sleep(nanoseconds: 60_000_000)
        }
        let failed = try XCTUnwrap(try store.outboxRows(journey: nil).first)
        XCTAssertEqual(failed.status, "pending")
        XCTAssertGreaterThan(failed.item.attempts, 1)
        XCTAssertTrue(failed.lastError?.contains("SMTP") ?? false, failed.lastError ?? "")
        // It comes back: the message goes out, once.
        let sink = try SMTPSink(port: port, maildir: dir + "/received")
        defer { sink.stop() }
        for _ in 0..<40 where try store.outboxRows(journey: nil).first?.status != "sent" {
            await dispatcher.runOnce()
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTAssertEqual(try store.outboxRows(journey: nil).first?.status, "sent")
        XCTAssertEqual(sink.messages.count, 1)
        for _ in 0..<3 { await dispatcher.runOnce() }
        XCTAssertEqual(sink.messages.count, 1, "a sent action never goes out again")
    }

    /// A crash before the server accepted: one email after restart. A crash after it accepted
    /// but before the outcome was recorded: a second copy, with the same Message-ID.
    func testCrashMidDispatchGivesOneEmailOrADuplicateWithTheSameMessageId() async throws {
        let sink = try SMTPSink(maildir: dir + "/received")
        defer { sink.stop() }
        let email = EmailConnector(environment: ConnectorEnvironment(root: dir, settings: ["email": ["smtp": ["url": .string("smtp://127.0.0.1:\(sink.port)")]]],
                                                                     env: [:], allowPrivateNetworks: true))
        try enqueue([action("email", ["to": "ada@example.com", "subject": "Before", "text": "A"], path: "states.a.do[0]", seq: 2),
                     action("email", ["to": "ada@example.com", "subject": "After", "text": "B"], path: "states.b.do[0]", seq: 3)])
        // The process claims both and dies: one before sending, one after the server accepted it.
        let claimed = try store.claimActions(now: Date(), limit: 10)
        XCTAssertEqual(claimed.count, 2)
        let after = try XCTUnwrap(claimed.first { $0.action.path == "states.b.do[0]" })
        _ = try await email.execute(after)
        XCTAssertEqual(sink.messages.count, 1)
        // Restart: a fresh store connection and dispatcher.
        let reopened = try SQLiteStore(path: dir + "/hirewire.db")
        let dispatcher = ActionDispatcher(store: reopened, connectors: [email])
        let run = Task { await dispatcher.run() }
        for _ in 0..<100 where try !reopened.outboxRows(journey: nil).allSatisfy({ $0.status == "sent" }) {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        run.cancel()
        _ = await run.value
        let messages = sink.messages
        XCTAssertEqual(messages.filter { $0.contains("Subject: Before") }.count, 1)
        let duplicates = messages.filter { $0.contains("Subject: After") }
        XCTAssertEqual(duplicates.count, 2)
        let ids = Set(duplicates.compactMap { $0.split(separator: "\r\n").first { $0.hasPrefix("Message-ID:") }.map(String.init) })
        XCTAssertEqual(ids.count, 1, "the duplicate carries the same Message-ID")
    }

    func testAStepsActionsGoOutInOrderEachAfterThePreviousFinished() async throws {
        let seen = Mutex<[String]>([])
        let sink = try HTTPServer(port: 0) { request in
            seen.withLock { $0.append(request.path) }
            return request.path == "/first" && seen.withLock({ $0.count }) == 1 ? .json(500, "{}") : .json(200, "{}")
        }
        defer { sink.stop() }
        try enqueue([action("http", ["method": "POST", "url": .string("http://127.0.0.1:\(sink.port)/first")], path: "states.s.do[0]", order: 0),
                     action("http", ["method": "POST", "url": .string("http://127.0.0.1:\(sink.port)/second")], path: "states.s.do[1]", order: 1)])
        let dispatcher = ActionDispatcher(store: store, connectors: [HTTPConnector(environment: environment())],
                                          policy: RetryPolicy(attempts: 3, base: 0.01, cap: 0.02))
        for _ in 0..<30 where seen.withLock({ $0.count }) < 3 {
            await dispatcher.runOnce()
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        XCTAssertEqual(seen.withLock { $0 }, ["/first", "/first", "/second"], "the second waits until the first succeeded")
    }

    func testPrivateTargetsAreRefusedUnlessAllowed() async throws {
        let guarded = HTTPConnector(environment: ConnectorEnvironment(root: dir, settings: [:], env: [:], allowPrivateNetworks: false))
        for url in ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "file:///etc/passwd"] {
            do {
                _ = try await guarded.execute(item("http", ["method": "GET", "url": .string(url)]))
                XCTFail("\(url) must be refused")
            } catch {
                XCTAssertFalse(error.retryable, url)
            }
        }
        XCTAssertFalse(OutboundGuard.isPrivate("93.184.216.34"))
        XCTAssertTrue(OutboundGuard.isPrivate("172.20.0.1"))
        XCTAssertTrue(OutboundGuard.isPrivate("100.64.0.1"))
    }
}
