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

    /// A due timer row the store cannot read is kept, reported, and not a reason to spin: the
    /// loop waits a minute (or a wake-up) before it looks again, while the good timers fire.
    func testAnUnreadableDueTimerDoesNotMakeTheLoopSpin() async throws {
        let (root, project) = try project("""
              waiting: {on: {candidate.hired: done}}
              done: {end: done}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStore(path: root + "/hirewire.db")
        let raw = try SQLiteDatabase(path: root + "/hirewire.db")
        try raw.query("INSERT INTO timers (id, journey, due, data) VALUES ('bad', 'jrn_x', ?, 'not a timer')", [.real(Date().timeIntervalSince1970 - 60)])
        let engine = try JourneyEngine(project: project, store: store)
        let passes = Mutex(0), errors = Mutex<[String]>([])
        let loop = EngineLoop(engine: engine, onError: { error in errors.withLock { $0.append(error.description) } },
                              afterPass: { passes.withLock { $0 += 1 } })
        let task = Task { await loop.run() }
        try await Task.sleep(nanoseconds: 700_000_000)
        task.cancel()
        loop.wake()
        XCTAssertLessThanOrEqual(passes.withLock { $0 }, 3, "the loop waits instead of spinning")
        XCTAssertTrue(errors.withLock { $0 }.contains { $0.contains("cannot be read") }, "\(errors.withLock { $0 })")
        var kept = 0
        try raw.query("SELECT COUNT(*) FROM timers WHERE id = 'bad'") { row in kept = Int(row.integer(0)) }
        XCTAssertEqual(kept, 1, "the row is kept for repair")
    }
}
