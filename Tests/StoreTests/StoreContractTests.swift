import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage
@testable import HirewireStore

/// The contract every JourneyStore must meet. Subclasses provide `makeStore`; the PostgreSQL
/// store will subclass this too.
class JourneyStoreContract: XCTestCase {
    /// A fresh, empty store (and a way to open it again, for durability checks).
    func makeStore() throws -> (store: any JourneyStore, reopen: () throws -> any JourneyStore) {
        throw XCTSkip("abstract contract")
    }

    let now = Date(timeIntervalSince1970: 1_772_000_000)

    func journey(_ id: String, key: String = "a1", active: Bool = true) -> Journey {
        Journey(id: id, flow: "offer", version: "v1", key: key, status: active ? .active : .ended(outcome: "hired"), state: "extended",
                stateEnteredAt: now, entry: 1, startedAt: now, context: ["candidate": ["id": "c1", "email": "ada@example.com"]],
                mergedAt: ["candidate": now], vars: ["n": 1], seq: 1, insteadAt: nil)
    }

    func timer(_ id: String, journey: String = "j1", due: TimeInterval) -> TimerRecord {
        TimerRecord(id: id, journey: journey, due: now.addingTimeInterval(due), entry: 1, stateScoped: true,
                    kind: .flow(path: "states.extended.after[0]"), windowEnd: nil, armedAt: now)
    }

    func action(_ key: String) -> PlannedAction {
        PlannedAction(connector: "email", arguments: ["to": "ada@example.com"], idempotencyKey: key, path: "states.extended.do[0]",
                      audience: .candidate, template: "offer-next-steps", retryAttempts: nil, retryBackoff: nil, entry: 1, order: 0, candidate: "c1")
    }

    func step(_ j: Journey, timers: [TimerRecord] = [], cancel: [String] = [], actions: [PlannedAction] = [], fired: String? = nil) -> StepCommit {
        var result = StepResult(journey: j)
        result.armTimers = timers
        result.cancelTimers = cancel
        result.actions = actions
        result.candidateMessages = actions.map { _ in now }
        result.timeline = [TimelineEntry(at: now, flow: "offer", journey: j.id, key: j.key, kind: "start", fields: ["n": 1])]
        return StepCommit(result: result, firedTimer: fired)
    }

    func testInboxDeduplicatesByEventId() throws {
        let (store, _) = try makeStore()
        let e1 = CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, data: ["application": ["id": "a1"]])
        let e2 = CanonicalEvent(id: "e2", type: "offer.viewed", occurredAt: now, data: [:])
        XCTAssertEqual(try store.appendInbox([e1, e2, e1], receivedAt: now), [true, true, false])
        XCTAssertEqual(try store.appendInbox([e1], receivedAt: now), [false])
        let pending = try store.pendingInbox(limit: 10)
        XCTAssertEqual(pending.map(\.event.id), ["e1", "e2"])
        XCTAssertEqual(pending.first?.event.data["application"]["id"], "a1")
        try store.commit([], processedInbox: [pending[0].sequence], ignored: [])
        XCTAssertEqual(try store.pendingInbox(limit: 10).map(\.event.id), ["e2"])
    }

    func testCommitWritesJourneyTimersOutboxAndAuditTogether() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), timers: [timer("t1", due: 60), timer("t2", due: 30)], actions: [action("j1:1:x")])],
                         processedInbox: [], ignored: [])
        XCTAssertEqual(try store.activeJourney(flow: "offer", key: "a1")?.id, "j1")
        XCTAssertEqual(try store.journey(id: "j1")?.context["candidate"]?["email"], "ada@example.com")
        XCTAssertEqual(try store.timers(dueBefore: nil).map(\.id), ["t2", "t1"])
        XCTAssertEqual(try store.nextDue(), now.addingTimeInterval(30))
        XCTAssertEqual(try store.dueTimers(at: now.addingTimeInterval(45), limit: 10).map(\.id), ["t2"])
        XCTAssertEqual(try store.outbox(journey: "j1").map(\.idempotencyKey), ["j1:1:x"])
        XCTAssertEqual(try store.timeline(journey: "j1").map(\.kind), ["start"])
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: now.addingTimeInterval(-1)).count, 1)
        XCTAssertTrue(try store.hadJourney(flow: "offer", key: "a1"))
        XCTAssertFalse(try store.hadJourney(flow: "offer", key: "zz"))
    }

    func testFiredAndCancelledTimersAreGone() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), timers: [timer("t1", due: 10), timer("t2", due: 20), timer("t3", due: 30)])], processedInbox: [], ignored: [])
        try store.commit([step(journey("j1"), cancel: ["t2"], fired: "t1")], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.timers(dueBefore: nil).map(\.id), ["t3"])
    }

    func testOutboxKeysAreUniqueSoARepeatedStepQueuesOnce() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), actions: [action("k")])], processedInbox: [], ignored: [])
        try store.commit([step(journey("j1"), actions: [action("k")])], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.outbox(journey: nil).count, 1)
    }

    func testOneActiveJourneyPerFlowAndKey() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"))], processedInbox: [], ignored: [])
        XCTAssertThrowsError(try store.commit([step(journey("j2"))], processedInbox: [], ignored: []))
        // The failed batch left nothing behind.
        XCTAssertNil(try store.journey(id: "j2"))
        try store.commit([step(journey("j1", active: false)), step(journey("j2"))], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.activeJourney(flow: "offer", key: "a1")?.id, "j2")
        XCTAssertEqual(try store.journeys(flow: "offer", key: "a1").count, 2)
    }

    func testVersionsAreKept() throws {
        let (store, _) = try makeStore()
        try store.saveVersion(flow: "offer", version: "v1", source: "{\"flow\": \"offer\"}", at: now)
        try store.saveVersion(flow: "offer", version: "v1", source: "ignored", at: now)
        XCTAssertEqual(try store.versionSource(flow: "offer", version: "v1"), "{\"flow\": \"offer\"}")
        XCTAssertNil(try store.versionSource(flow: "offer", version: "v2"))
    }

    func testCommittedDataSurvivesReopening() throws {
        let (store, reopen) = try makeStore()
        try store.commit([step(journey("j1"), timers: [timer("t1", due: 10)], actions: [action("k")])], processedInbox: [], ignored: [])
        let again = try reopen()
        XCTAssertEqual(try again.journey(id: "j1")?.vars["n"], 1)
        XCTAssertEqual(try again.timers(dueBefore: nil).first?.kind, .flow(path: "states.extended.after[0]"))
        XCTAssertEqual(try again.outbox(journey: "j1").first?.template, "offer-next-steps")
    }
}

final class SQLiteStoreContractTests: JourneyStoreContract {
    override func makeStore() throws -> (store: any JourneyStore, reopen: () throws -> any JourneyStore) {
        let path = NSTemporaryDirectory() + "hirewire-store-\(UUID().uuidString)/hirewire.db"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        return (try SQLiteStore(path: path), { try SQLiteStore(path: path) })
    }

    func testSchemaIsVersionedAndWALIsOn() throws {
        let (store, reopen) = try makeStore()
        _ = try reopen()
        guard let sqlite = store as? SQLiteStore else { return XCTFail() }
        let db = try SQLiteDatabase(path: sqlite.path)
        var version = 0, mode = ""
        try db.query("PRAGMA user_version") { row in version = Int(row.integer(0)) }
        try db.query("PRAGMA journal_mode") { row in mode = row.text(0) ?? "" }
        XCTAssertEqual(version, SQLiteSchema.migrations.count)
        XCTAssertEqual(mode, "wal")
    }
}
