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

    /// A pass fires the timers already due before it takes the inbox, as `test` and `simulate`
    /// order them: the journey waited an hour for its reminder, and an event that queued while
    /// the engine was busy meets the reminded journey (before, the event moved the journey on and
    /// the reminder its flow test promised never went out).
    func testTimersDueBeforeAPassFireBeforeItsInboxEvents() throws {
        let (root, project) = try project("""
              waiting:
                on: {candidate.stage_changed: moved}
                after: {delay: 1h, goto: reminded}
              reminded: {do: [{slack: {text: "reminder"}}], end: reminded}
              moved: {end: moved}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStore(path: root + "/hirewire.db")
        let engine = try JourneyEngine(project: project, store: store)
        let start = Date(timeIntervalSince1970: 1_773_000_000)
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: start, data: ["application": ["id": "a1"]])], now: start)
        try engine.processInbox(now: start)
        let later = start.addingTimeInterval(7200)
        _ = try engine.submit([CanonicalEvent(id: "e2", type: "candidate.stage_changed", occurredAt: later, data: ["application": ["id": "a1"]])], now: later)
        let loop = EngineLoop(engine: engine, clock: { later })
        XCTAssertNil(try loop.pass(), "nothing is pending after the pass")
        XCTAssertEqual(try store.journeys(flow: "quick", key: "a1").map(\.outcome), ["reminded"])
        XCTAssertEqual(try store.outbox(journey: nil).map(\.connector), ["slack"])
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

    /// Parking a damaged row does not hand back the good timers read before it twice (they
    /// fired twice: a journey-wide reminder went out two times).
    func testParkingADamagedRowReturnsEachGoodTimerOnce() throws {
        let (root, project) = try project("""
              waiting:
                after: {delay: 1s, goto: done}
              done: {end: done}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStore(path: root + "/hirewire.db")
        let engine = try JourneyEngine(project: project, store: store)
        let now = Date()
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: now, data: ["application": ["id": "a1"]])], now: now)
        try engine.processInbox(now: now)
        let raw = try SQLiteDatabase(path: root + "/hirewire.db")
        try raw.query("INSERT INTO timers (id, journey, due, data) VALUES ('zzz', 'jrn_x', ?, 'not a timer')", [.real(now.timeIntervalSince1970 + 0.5)])
        let due = try store.dueTimers(at: now.addingTimeInterval(10), limit: 10)
        XCTAssertEqual(due.count, 1, "\(due.map(\.id))")
        XCTAssertEqual(try store.deadLetters(limit: 10).filter { $0.kind == .timer }.count, 1)
    }

    /// A timer an earlier step of the same batch cancelled does not fire: a state timer moves
    /// the journey to its end, which withdraws the message quiet hours held, and the held
    /// message's own timer, read in the same batch, is not released as well (it recorded a second
    /// `deferred_dropped` and uncounted the message twice).
    func testATimerCancelledEarlierInTheBatchDoesNotFire() throws {
        let root = NSTemporaryDirectory() + "hirewire-batch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try """
            flow: night
            start: {on: candidate.applied, key: application.id}
            require: [candidate.email]
            policy:
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
            states:
              a:
                do: [{email: {to: "{{candidate.email}}", subject: s, text: t}}]
                after: {delay: 10h, goto: b}
              b: {end: done}
            """.write(toFile: root + "/flows/night.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.errorCount, 0, "\(project.diagnostics)")
        let store = try SQLiteStore(path: root + "/hirewire.db")
        let engine = try JourneyEngine(project: project, store: store)
        let evening = try XCTUnwrap(Timestamp.parse("2026-03-02T21:00:00Z"))
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: evening, data: [
            "candidate": ["id": "c1", "email": "ada@example.com", "timezone": "Europe/London"], "application": ["id": "a1"]])], now: evening)
        try engine.processInbox(now: evening)
        let journey = try XCTUnwrap(try store.activeJourney(flow: "night", key: "a1"))
        XCTAssertEqual(try store.timers(journey: journey.id).count, 3, "the state timer (07:00), the held email (08:00), the timeout")
        XCTAssertEqual(try engine.fireDueTimers(now: try XCTUnwrap(Timestamp.parse("2026-03-03T09:00:00Z"))), 2)
        let timeline = try store.timeline(journey: journey.id)
        XCTAssertEqual(timeline.filter { $0.kind == "deferred_dropped" }.count, 1, "\(timeline.map(\.kind))")
        XCTAssertEqual(try store.outbox(journey: journey.id).count, 0)
        XCTAssertEqual(try store.timers(journey: journey.id).count, 0)
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 0)
    }
}

final class EngineLoopRetentionTests: XCTestCase {
    /// The loop sweeps at its first pass, then not again until an hour has passed on its clock;
    /// a journey that ended more than `retention.personal_data` ago loses its context then.
    func testRetentionRunsAtTheFirstPassThenHourly() throws {
        let root = NSTemporaryDirectory() + "hirewire-retention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try "flow: quick\nstart: {on: candidate.applied, key: application.id}\nstates:\n  done: {end: done}\n"
            .write(toFile: root + "/flows/quick.yaml", atomically: true, encoding: .utf8)
        try "retention: {events: 1d, personal_data: 2d}\n".write(toFile: root + "/hirewire.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.errorCount, 0)
        let start = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        let clock = Mutex(start)
        let engine = try JourneyEngine(project: project, store: SQLiteStore(path: root + "/hirewire.db"))
        let reports = Mutex<[RetentionReport]>([])
        let loop = EngineLoop(engine: engine, clock: { clock.withLock { $0 } }, onRetention: { report in reports.withLock { $0.append(report) } })
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: start,
                                              data: ["application": ["id": "a1"], "candidate": ["id": "c1", "email": "ada@example.com"]])], now: start)
        _ = try loop.pass()
        XCTAssertEqual(reports.withLock { $0 }, [RetentionReport()], "a sweep at the first pass, with nothing old enough")
        clock.withLock { $0 = start.addingTimeInterval(3 * 86400) }
        _ = try loop.pass()
        let swept = reports.withLock { $0 }
        XCTAssertEqual(swept.count, 2)
        XCTAssertEqual(swept.last?.events, 1, "the processed event is older than a day")
        XCTAssertEqual(swept.last?.personalData.journeys, 1, "the journey ended more than two days ago")
        XCTAssertEqual(try engine.store.journeys(flow: "quick", key: "").first?.context, [:])
        // Within the hour: no sweep.
        clock.withLock { $0 = start.addingTimeInterval(3 * 86400 + 1800) }
        _ = try loop.pass()
        XCTAssertEqual(reports.withLock { $0 }.count, 2)
    }
}

final class TimerLoopTests: XCTestCase {
    /// A timer of zero delay that leads back to its own state re-arms itself at the same moment:
    /// one call fires each such timer once and returns, so the engine lock is let go and the
    /// scheduler can take events and stop between passes.
    func testAZeroDelayLoopDoesNotHoldTheEngine() throws {
        let root = NSTemporaryDirectory() + "hirewire-loop0-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try "flow: spin\nstart: {on: candidate.applied, key: application.id}\nstates:\n  a: {after: {delay: 0s, goto: a}}\n"
            .write(toFile: root + "/flows/spin.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        let engine = try JourneyEngine(project: project, store: SQLiteStore(path: root + "/hirewire.db"))
        let now = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: now, data: ["application": ["id": "a1"], "candidate": ["id": "c1"]])], now: now)
        try engine.processInbox(now: now)
        XCTAssertEqual(try engine.fireDueTimers(now: now), 1, "fired once, then left for the next call")
        XCTAssertEqual(try engine.fireDueTimers(now: now), 1)
        // A later event still gets in between.
        _ = try engine.submit([CanonicalEvent(id: "e2", type: "candidate.applied", occurredAt: now, data: ["application": ["id": "a2"], "candidate": ["id": "c2"]])], now: now)
        XCTAssertEqual(try engine.processInbox(now: now), 1)
    }
}
