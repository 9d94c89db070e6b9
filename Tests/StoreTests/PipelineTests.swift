import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

/// Batches are routed while the batch before them commits. The outcome must be exactly what
/// one batch after another gives: same journeys in the same states, same actions, same caps.
final class PipelineTests: XCTestCase {
    static let project = JourneyEngineTests.project
    let at = Timestamp.parse("2026-03-06T12:00:00Z") ?? .distantPast

    func event(_ n: Int, _ type: String, application: Int, candidate: Int, offer: String = "o1") -> CanonicalEvent {
        CanonicalEvent(id: "e\(n)", type: type, occurredAt: at.addingTimeInterval(Double(n)), source: "test", data: [
            "candidate": ["id": .string("c\(candidate)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": .string("a\(application)")], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
            "offer": ["id": .string(offer), "tier": "B", "expires_at": "2026-03-20T17:00:00Z"],
        ])
    }

    /// Offers, views, acceptances and declines whose keys recur across batch boundaries, and
    /// candidates with several applications (so `max_messages` counts across batches).
    var events: [CanonicalEvent] {
        var out: [CanonicalEvent] = []
        var n = 0
        for round in 0..<3 {
            for app in 0..<120 {
                let type = round == 0 ? "offer.extended" : (round == 1 ? (app % 3 == 0 ? "offer.declined" : "offer.viewed") : "offer.accepted")
                out.append(event(n, type, application: app, candidate: app % 40))
                n += 1
            }
        }
        // A second offer round for the declined applications, after their journeys ended.
        for app in stride(from: 0, to: 120, by: 3) {
            out.append(event(n, "offer.extended", application: app, candidate: app % 40, offer: "o2"))
            n += 1
        }
        return out
    }

    /// What a store holds, without the random journey ids.
    func summary(_ store: SQLiteStore) throws -> [String] {
        var rows: [String] = []
        try store.db.query("SELECT flow, key, state, active, COALESCE(outcome, '') FROM journeys ORDER BY flow, key, started_at, state") { row in
            rows.append("journey \(row.text(0) ?? "") \(row.text(1) ?? "") \(row.text(2) ?? "") \(row.integer(3)) \(row.text(4) ?? "")")
        }
        try store.db.query("""
            SELECT j.key, o.connector, COALESCE(json_extract(o.data, '$.template'), ''), json_extract(o.data, '$.path'), COUNT(*)
            FROM outbox o JOIN journeys j ON j.id = o.journey GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """) { row in
            rows.append("action \(row.text(0) ?? "") \(row.text(1) ?? "") \(row.text(2) ?? "") \(row.text(3) ?? "") x\(row.integer(4))")
        }
        try store.db.query("SELECT candidate, COUNT(*) FROM messages GROUP BY 1 ORDER BY 1") { row in
            rows.append("messages \(row.text(0) ?? "") \(row.integer(1))")
        }
        try store.db.query("SELECT COUNT(*) FROM timers") { row in rows.append("timers \(row.integer(0))") }
        try store.db.query("SELECT status, COUNT(*) FROM inbox GROUP BY 1") { row in rows.append("inbox \(row.text(0) ?? "") \(row.integer(1))") }
        return rows
    }

    func run(batchSize: Int) throws -> [String] {
        let dir = NSTemporaryDirectory() + "hirewire-pipeline-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/hirewire.db")
        let engine = try JourneyEngine(project: Self.project, store: store, env: ["ONBOARDING_URL": "https://hr.example.com/x"], now: at)
        _ = try engine.submit(events, now: at)
        XCTAssertEqual(try engine.processInbox(now: at.addingTimeInterval(3600), batchSize: batchSize), events.count)
        return try summary(store)
    }

    func testPipelinedBatchesEndExactlyAsOneBatch() throws {
        let whole = try run(batchSize: 10_000)
        XCTAssertTrue(whole.contains { $0.hasPrefix("journey offer-nurture a0 declined 0 declined") }, whole.joined(separator: "\n"))
        XCTAssertTrue(whole.contains { $0.contains("task") }, "the frequency cap ran its instead action somewhere")
        for size in [7, 50, 120] {
            XCTAssertEqual(try run(batchSize: size), whole, "batches of \(size)")
        }
    }

    /// A journey this engine holds in memory and another writer (a second process on the same
    /// file) moved on is read again, not stepped from the stale copy.
    func testAJourneyChangedByAnotherWriterIsReadAgain() throws {
        let dir = NSTemporaryDirectory() + "hirewire-pipeline-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try JourneyEngine(project: Self.project, store: SQLiteStore(path: dir + "/hirewire.db"), now: at)
        let second = try JourneyEngine(project: Self.project, store: SQLiteStore(path: dir + "/hirewire.db"), now: at)
        _ = try first.submit([event(0, "offer.extended", application: 1, candidate: 1)], now: at)
        XCTAssertEqual(try first.processInbox(now: at), 1)
        _ = try second.submit([event(1, "offer.viewed", application: 1, candidate: 1)], now: at)
        XCTAssertEqual(try second.processInbox(now: at), 1)
        XCTAssertEqual(try first.store.activeJourney(flow: "offer-nurture", key: "a1")?.state, "viewed")
        // The first engine still remembers the journey in `extended`; declining from there would
        // email the candidate, from `viewed` too — but only `viewed` has its Slack message sent.
        _ = try first.submit([event(2, "offer.declined", application: 1, candidate: 1)], now: at)
        XCTAssertEqual(try first.processInbox(now: at), 1)
        let journey = try XCTUnwrap(try first.store.journeys(flow: "offer-nurture", key: "a1").first)
        XCTAssertEqual(journey.outcome, "declined")
        let timeline = try first.store.timeline(journey: journey.id)
        XCTAssertEqual(timeline.filter { $0.kind == "transition" }.last?.fields["from"], "viewed", "stepped from the state the other writer left")
        XCTAssertEqual(journey.seq, 3)
    }

    /// One call takes a bounded share of a backlog (the scheduler fires due timers between
    /// shares); the rest stays pending, in order, for the next call.
    func testABoundedShareLeavesTheRestPendingInOrder() throws {
        let dir = NSTemporaryDirectory() + "hirewire-pipeline-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/hirewire.db")
        let engine = try JourneyEngine(project: Self.project, store: store, now: at)
        let backlog = (0..<250).map { event($0, "offer.extended", application: $0, candidate: $0) }
        _ = try engine.submit(backlog, now: at)
        XCTAssertEqual(try engine.processInbox(now: at, batchSize: 40, maxEvents: 100), 100)
        let pending = try store.pendingInbox(limit: 1_000)
        XCTAssertEqual(pending.map(\.event.id), backlog[100...].map(\.id))
        XCTAssertEqual(try store.journeyIndex(flow: "offer-nurture", keys: (0..<250).map { "a\($0)" }).active.count, 100)
        XCTAssertEqual(try engine.processInbox(now: at, batchSize: 40), 150)
        XCTAssertTrue(try store.pendingInbox(limit: 10).isEmpty)
    }
}
