import Foundation
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireLanguage
import HirewireStore
import HirewireTestSupport

/// Plugins as real subprocesses speaking JSON lines: the example plugin and a crashing one.
final class PluginTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = temporaryFolder("plugin") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testExamplePluginDescribesItselfAndAddsANoteOncePerKey() async throws {
        let host = PluginHost(name: "crm_note", executable: repositoryRoot + "/examples/plugins/crm-note", root: dir, env: ProcessInfo.processInfo.environment)
        defer { host.stop() }
        let description = try await host.describe()
        XCTAssertEqual(description.name, "crm-note")
        XCTAssertEqual(description.actions.map(\.name), ["add"])
        XCTAssertEqual(description.actions.first?.argsSchema["required"], ["candidate", "note"])
        let note = item("crm_note.add", ["candidate": "c1", "note": "Offer sent"], key: "jrn_1:2:states.a.do[0]")
        let first = try await host.execute(note)
        XCTAssertEqual(first["stored"].boolValue, true)
        let again = try await host.execute(note)
        XCTAssertEqual(again["repeat"].boolValue, true)
        let lines = try String(contentsOfFile: dir + "/.hirewire/crm-notes.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "the same idempotency key adds one note")
        do {
            _ = try await host.execute(item("crm_note.add", ["candidate": "c1", "note": "  "], key: "jrn_1:3:states.a.do[0]"))
            XCTFail("an empty note is refused")
        } catch {
            XCTAssertFalse(error.retryable)
            XCTAssertTrue(error.message.contains("empty"), error.message)
        }
        XCTAssertEqual(host.starts, 1, "one process served every call")
    }

    func testACrashedPluginIsRestartedAndItsActionRetried() async throws {
        let host = PluginHost(name: "flaky", executable: supportFile("flaky-plugin"), root: dir,
                              env: ProcessInfo.processInfo.environment.merging(["FLAKY_DIR": dir]) { _, new in new })
        defer { host.stop() }
        let store = try SQLiteStore(path: dir + "/h.db")
        let stamp = Timestamp.format(Date())
        var result = StepResult(journey: Journey(encoded: ["id": "jrn_9", "flow": "f", "version": "v", "key": "k", "state": "s",
                                                           "entered_at": .string(stamp), "entry": 1, "started_at": .string(stamp), "seq": 2]))
        result.actions = [item("flaky.ping", ["n": 1], key: "jrn_9:2:states.s.do[0]").action]
        result.timeline = [TimelineEntry(at: Date(), flow: "f", journey: "jrn_9", key: "k", kind: "action", fields: [:])]
        try store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
        let dispatcher = ActionDispatcher(store: store, connectors: [host], policy: RetryPolicy(attempts: 3, base: 0.01, cap: 0.02))
        for _ in 0..<50 where try store.outboxRows(journey: nil).first?.status != "sent" {
            await dispatcher.runOnce()
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let row = try XCTUnwrap(try store.outboxRows(journey: nil).first)
        XCTAssertEqual(row.status, "sent")
        XCTAssertEqual(row.item.attempts, 2)
        XCTAssertEqual(row.result?["attempt"], 2, "the plugin saw the retry's attempt number")
        XCTAssertEqual(row.result?["key"], "jrn_9:2:states.s.do[0]")
        XCTAssertEqual(host.starts, 2)
        XCTAssertTrue(row.lastError?.contains("exited") ?? false, row.lastError ?? "")
    }

    func testAPluginThatDoesNotAnswerTimesOutAndIsReplaced() async throws {
        let flakyDir = dir
        try "1".write(toFile: flakyDir + "/starts", atomically: true, encoding: .utf8)   // past its crashing first life
        let host = PluginHost(name: "flaky", executable: supportFile("flaky-plugin"), root: dir,
                              env: ProcessInfo.processInfo.environment.merging(["FLAKY_DIR": flakyDir]) { _, new in new }, timeout: 0.5)
        defer { host.stop() }
        let started = Date()
        do {
            _ = try await host.execute(item("flaky.ping", ["hang": true]))
            XCTFail("a silent plugin must time out")
        } catch {
            XCTAssertTrue(error.retryable)
            XCTAssertTrue(error.message.contains("did not answer"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        let answer = try await host.execute(item("flaky.ping", ["n": 1], key: "jrn_1:9:states.s.do[0]"))
        XCTAssertEqual(answer["key"], "jrn_1:9:states.s.do[0]")
        XCTAssertEqual(host.starts, 2, "the hung plugin was replaced")
    }
}
