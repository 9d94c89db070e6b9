import Foundation
import Synchronization
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

final class EngineLoopTests: XCTestCase {
    /// A project folder holding one flow, `quick` (removed by the caller).
    func project(_ states: String) throws -> (root: String, project: CompiledProject) {
        let root = NSTemporaryDirectory() + "hirewire-loop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try ("flow: quick\nstart: {on: candidate.applied, key: application.id}\nstates:\n" + states)
            .write(toFile: root + "/flows/quick.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.errorCount, 0)
        return (root, project)
    }

    func testLoopSleepsUntilTheTimerAndFiresIt() async throws {
        let (root, project) = try project("""
              waiting: {after: {delay: 1s, goto: done}}
              done: {do: [{slack: {text: "fired"}}], end: done}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let engine = try JourneyEngine(project: project, store: SQLiteStore(path: root + "/hirewire.db"))
        let loop = EngineLoop(engine: engine)
        let task = Task { await loop.run() }
        defer { task.cancel() }
        try await Task.sleep(nanoseconds: 100_000_000)
        let sent = Date()
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: sent, data: ["application": ["id": "a1"], "candidate": ["id": "c1"]])], now: sent)
        loop.wake()
        var firedAt: Date?
        for _ in 0..<100 {
            try await Task.sleep(nanoseconds: 50_000_000)
            if try engine.store.outbox(journey: nil).contains(where: { $0.connector == "slack" }) {
                firedAt = Date()
                break
            }
        }
        let fired = try XCTUnwrap(firedAt, "the timer never fired")
        XCTAssertGreaterThanOrEqual(fired.timeIntervalSince(sent), 1.0)
        XCTAssertLessThan(fired.timeIntervalSince(sent), 3.0)
        XCTAssertEqual(try engine.store.activeJourney(flow: "quick", key: "a1")?.id, nil)
    }

    /// A due timer row the store cannot read is parked in the dead letters with its reason, and
    /// is no reason to spin: the loop goes back to sleep, and the good timers behind it fire.
    /// More damaged rows than one pass fetches (they used to fill the due query's LIMIT and hold
    /// every good timer back) are all parked on the way.
    func testUnreadableDueTimersAreParkedAndHoldNothingBack() async throws {
        let (root, project) = try project("""
              waiting:
                after: {delay: 1s, goto: done}
              done: {end: done}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStore(path: root + "/hirewire.db")
        let raw = try SQLiteDatabase(path: root + "/hirewire.db")
        for i in 0..<600 {
            try raw.query("INSERT INTO timers (id, journey, due, data) VALUES (?, 'jrn_x', ?, 'not a timer')",
                          [.text("bad\(i)"), .real(Date().timeIntervalSince1970 - 60)])
        }
        let engine = try JourneyEngine(project: project, store: store)
        let passes = Mutex(0), errors = Mutex<[String]>([])
        let loop = EngineLoop(engine: engine, onError: { error in errors.withLock { $0.append(error.description) } },
                              afterPass: { passes.withLock { $0 += 1 } })
        let task = Task { await loop.run() }
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: Date(), data: ["application": ["id": "a1"]])], now: Date())
        loop.wake()
        var ended = false
        for _ in 0..<40 where !ended {
            try await Task.sleep(nanoseconds: 100_000_000)
            ended = try store.journeys(flow: "quick", key: "a1").first?.outcome == "done"
        }
        XCTAssertTrue(ended, "the good timer fired behind 600 damaged rows")
        let passesThen = passes.withLock { $0 }
        try await Task.sleep(nanoseconds: 500_000_000)
        task.cancel()
        loop.wake()
        XCTAssertLessThanOrEqual(passes.withLock { $0 } - passesThen, 2, "the loop sleeps instead of spinning")
        var left = 0
        try raw.query("SELECT COUNT(*) FROM timers WHERE id LIKE 'bad%'") { row in left = Int(row.integer(0)) }
        XCTAssertEqual(left, 0)
        let parked = try store.deadLetters(limit: 1000).filter { $0.kind == .timer }
        XCTAssertEqual(parked.count, 600)
        XCTAssertTrue(parked.allSatisfy { $0.reason.contains("cannot be read back") && $0.what.hasPrefix("timer bad") }, "\(parked.first.map(\.what) ?? "")")
        XCTAssertEqual(try store.requeueDeadLetter(.timer, parked[0].number, at: Date()), false, "nothing to replay")
        XCTAssertEqual(try store.dismissDeadLetter(.timer, parked[0].number, at: Date()), true)
        XCTAssertEqual(try store.deadLetters(limit: 1000).filter { $0.kind == .timer }.count, 599)
        XCTAssertEqual(errors.withLock { $0 }, [])
    }
}
