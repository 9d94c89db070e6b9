import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

/// The engine over a real SQLite file with the bundled project: durable journeys, timers that
/// survive restarts and fire once, duplicates that never act twice.
final class JourneyEngineTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let project = ProjectCompiler.compile(root: repo)

    var dbPath = ""

    override func setUp() {
        dbPath = NSTemporaryDirectory() + "hirewire-engine-\(UUID().uuidString)/hirewire.db"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: (dbPath as NSString).deletingLastPathComponent)
    }

    func engine(_ project: CompiledProject = JourneyEngineTests.project) throws -> JourneyEngine {
        try JourneyEngine(project: project, store: SQLiteStore(path: dbPath))
    }

    func t(_ s: String) -> Date { Timestamp.parse(s) ?? .distantPast }

    func offer(id: String = "e1", application: String = "a1") -> CanonicalEvent {
        CanonicalEvent(id: id, type: "offer.extended", occurredAt: t("2026-03-06T16:00:00Z"), source: "test", data: [
            "candidate": ["id": .string("c-\(application)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": .string(application)], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
            "offer": ["id": "o1", "tier": "B", "expires_at": "2026-03-20T17:00:00Z"],
        ])
    }

    func testEventToOutboxAndTimersAcrossRestarts() throws {
        var e = try engine()
        XCTAssertEqual(try e.submit([offer()], now: t("2026-03-06T16:00:00Z")), [true])
        XCTAssertEqual(try e.processInbox(now: t("2026-03-06T16:00:00Z")), 1)
        let journey = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertTrue(journey.id.hasPrefix("jrn_"))
        XCTAssertEqual(journey.id.count, 30)
        XCTAssertEqual(try e.store.outbox(journey: journey.id).map(\.template), ["offer-next-steps"])
        XCTAssertEqual(try e.nextDue(), t("2026-03-09T09:00:00Z"))
        // Restart ten times before the follow-up is due: nothing fires early, nothing is lost.
        for hour in 0..<10 {
            e = try engine()
            XCTAssertEqual(try e.fireDueTimers(now: t("2026-03-07T00:00:00Z").addingTimeInterval(Double(hour) * 3600)), 0)
        }
        XCTAssertEqual(try e.fireDueTimers(now: t("2026-03-09T09:00:05.570Z")), 1)
        XCTAssertEqual(try e.store.outbox(journey: journey.id).map(\.template), ["offer-next-steps", "offer-check-in"])
        // Firing again at the same moment does nothing: the timer was consumed with its step.
        e = try engine()
        XCTAssertEqual(try e.fireDueTimers(now: t("2026-03-09T09:00:05.570Z")), 0)
        XCTAssertEqual(try e.store.activeJourney(flow: "offer-nurture", key: "a1")?.state, "follow_up")
        let fired = try e.store.timeline(journey: journey.id).filter { $0.kind == "timer_fired" }
        XCTAssertEqual(fired.count, 1)
        // To the millisecond (the subtraction of two dates left 5.570000171661377).
        XCTAssertEqual(fired.first?.fields["lateness_s"], 5.57)
    }

    func testAPoisonEventIsParkedAndDoesNotBlockOthers() throws {
        let e = try engine()
        // A real SQLite failure for one key, as a full disk or a broken constraint would give.
        let raw = try SQLiteDatabase(path: dbPath)
        try raw.execute("CREATE TRIGGER poison BEFORE INSERT ON journeys WHEN NEW.key = 'poison' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;")
        _ = try e.submit([offer(id: "e1", application: "a1"), offer(id: "e2", application: "poison"), offer(id: "e3", application: "a2")],
                         now: t("2026-03-06T16:00:00Z"))
        XCTAssertEqual(try e.processInbox(now: t("2026-03-06T16:00:00Z")), 3)
        XCTAssertNotNil(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertNotNil(try e.store.activeJourney(flow: "offer-nurture", key: "a2"))
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).count, 0)
        let failed = try e.store.failedInbox()
        XCTAssertEqual(failed.map(\.event.id), ["e2"])
        XCTAssertTrue(failed.first?.reason.contains("disk says no") ?? false, failed.first?.reason ?? "")
    }

    /// A canonical event without a field its type requires goes to review as a delivery, as a
    /// vendor's would (it went on as an event no journey could key, "no journey"); once another
    /// event tells what it lacked, it is mapped again by itself, filled from that, and goes through.
    func testACanonicalEventMissingARequiredFieldGoesToReviewUntilItsDataArrives() throws {
        let e = try engine()
        let body = #"{"id": "x1", "type": "offer.extended", "occurred_at": "2026-03-06T16:00:00Z", "data": {"application": {"id": "a1"}, "candidate": {"id": "c1"}}}"#
        _ = try e.store.appendDeliveries([Delivery(source: "events", eventId: "x1", receivedAt: t("2026-03-06T16:00:00Z"), headers: [:], body: Array(body.utf8))])
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:00Z"))
        let review = try e.store.deadLetters(limit: 10).filter { $0.kind == .delivery }
        XCTAssertEqual(review.map(\.reason), ["offer.extended without offer.id"])
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).count, 0)
        // News of another application does not wake it.
        let other = #"{"id": "x0", "type": "candidate.stage_changed", "occurred_at": "2026-03-06T16:01:00Z", "data": {"application": {"id": "a9"}, "offer": {"id": "o9"}}}"#
        _ = try e.store.appendDeliveries([Delivery(source: "events", eventId: "x0", receivedAt: t("2026-03-06T16:01:00Z"), headers: [:], body: Array(other.utf8))])
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:01:00Z"))
        XCTAssertEqual(try e.store.deadLetters(limit: 10).filter { $0.kind == .delivery }.map(\.number), review.map(\.number))
        // The application's offer becomes known from another event: the one in review is mapped
        // again with it and goes in, before it, with no one replaying it.
        let known = #"{"id": "x2", "type": "candidate.stage_changed", "occurred_at": "2026-03-06T16:05:00Z", "data": {"application": {"id": "a1"}, "offer": {"id": "o1"}}}"#
        _ = try e.store.appendDeliveries([Delivery(source: "events", eventId: "x2", receivedAt: t("2026-03-06T16:05:00Z"), headers: [:], body: Array(known.utf8))])
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:05:00Z"))
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).map(\.event.id), ["x0", "x1", "x2"])
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).first { $0.event.id == "x1" }?.event.data["offer"]["id"], "o1")
        XCTAssertTrue(try e.store.deadLetters(limit: 10).filter { $0.kind == .delivery }.isEmpty)
        XCTAssertFalse(try e.store.requeueDeadLetter(.delivery, try XCTUnwrap(review.first).number, at: t("2026-03-06T16:06:00Z")),
                       "no longer waiting: a replay by hand finds nothing to do")
        XCTAssertEqual(try e.store.deliveries(DeliveryQuery(eventId: "x1", limit: 1)).first?.status, "accepted")
    }

    /// Within one mapping batch a delivery is filled from what an earlier one of the batch said,
    /// as if each had been written alone; the batch is written in one transaction.
    func testALaterDeliveryOfTheBatchIsFilledFromAnEarlierOne() throws {
        let e = try engine()
        let known = #"{"id": "y1", "type": "candidate.stage_changed", "occurred_at": "2026-03-06T16:00:00Z", "data": {"application": {"id": "a5"}, "offer": {"id": "o5"}}}"#
        let idOnly = #"{"id": "y2", "type": "offer.extended", "occurred_at": "2026-03-06T16:00:01Z", "data": {"application": {"id": "a5"}, "candidate": {"id": "c5"}}}"#
        _ = try e.store.appendDeliveries([known, idOnly].enumerated().map { i, body in
            Delivery(source: "events", eventId: "y\(i + 1)", receivedAt: t("2026-03-06T16:00:00Z"), headers: [:], body: Array(body.utf8))
        })
        XCTAssertEqual(try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:02Z")), 2)
        XCTAssertTrue(try e.store.deadLetters(limit: 10).isEmpty)
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).first { $0.event.id == "y2" }?.event.data["offer"]["id"], "o5")
        XCTAssertEqual(try e.store.applicationProfile("a5")?["offer"]["id"], "o5")
    }

    /// Out of order within one batch: the offer that lacked its id is mapped again as soon as the
    /// event that tells it comes, and its event goes into the inbox first, as it came first.
    func testAnOutOfOrderDeliveryOfTheSameBatchHealsInItsOrder() throws {
        let e = try engine()
        let idOnly = #"{"id": "z1", "type": "offer.extended", "occurred_at": "2026-03-06T16:00:00Z", "data": {"application": {"id": "a6"}, "candidate": {"id": "c6"}}}"#
        let other = #"{"id": "z2", "type": "candidate.stage_changed", "occurred_at": "2026-03-06T16:00:01Z", "data": {"application": {"id": "a7"}, "offer": {"id": "o7"}}}"#
        let known = #"{"id": "z3", "type": "candidate.stage_changed", "occurred_at": "2026-03-06T16:00:02Z", "data": {"application": {"id": "a6"}, "offer": {"id": "o6"}}}"#
        _ = try e.store.appendDeliveries([idOnly, other, known].enumerated().map { i, body in
            Delivery(source: "events", eventId: "z\(i + 1)", receivedAt: t("2026-03-06T16:00:00Z"), headers: [:], body: Array(body.utf8))
        })
        XCTAssertEqual(try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:03Z")), 3)
        XCTAssertTrue(try e.store.deadLetters(limit: 10).isEmpty)
        let inbox = try e.store.pendingInbox(limit: 10)
        XCTAssertEqual(inbox.map(\.event.id), ["z2", "z1", "z3"], "z1 just before the news that completed it")
        XCTAssertEqual(inbox.first { $0.event.id == "z1" }?.event.data["offer"]["id"], "o6")
        XCTAssertEqual(try e.store.deliveries(DeliveryQuery(eventId: "z1", limit: 1)).first?.status, "accepted")
    }

    /// Canonical deliveries (the `events` source) with `data` for `application`.
    func deliveries(_ items: [(id: String, type: String, data: String)], at: String = "2026-03-06T16:00:00Z") -> [Delivery] {
        items.map { id, type, data in
            let body = #"{"id": "\#(id)", "type": "\#(type)", "occurred_at": "\#(at)", "data": \#(data)}"#
            return Delivery(source: "events", eventId: id, receivedAt: t(at), headers: [:], body: Array(body.utf8))
        }
    }

    /// A mapping batch that fails part way writes nothing: its deliveries stay pending, the
    /// inbox and the profiles as they were, and the next pass maps them all.
    func testAMappingBatchThatFailsWritesNothing() throws {
        let e = try engine()
        _ = try e.store.appendDeliveries(deliveries([
            ("m1", "candidate.stage_changed", #"{"application": {"id": "a11"}, "offer": {"id": "o11"}}"#),
            ("m2", "candidate.stage_changed", #"{"application": {"id": "a12"}, "offer": {"id": "o12"}}"#),
        ]))
        let raw = try SQLiteDatabase(path: dbPath)
        try raw.execute("CREATE TRIGGER full BEFORE INSERT ON applications WHEN NEW.id = 'a12' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;")
        XCTAssertThrowsError(try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:00Z")))
        XCTAssertEqual(try e.store.pendingDeliveries(limit: 10).map(\.eventId), ["m1", "m2"])
        XCTAssertTrue(try e.store.pendingInbox(limit: 10).isEmpty)
        XCTAssertNil(try e.store.applicationProfile("a11"))
        try raw.execute("DROP TRIGGER full;")
        XCTAssertEqual(try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:01:00Z")), 2)
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).map(\.event.id), ["m1", "m2"])
    }

    /// Two offers of one application wait in review from earlier batches; its news maps each
    /// again once, in their order, before the news.
    func testTwoStoredReviewsOfOneApplicationHealOnceEachInTheirOrder() throws {
        let e = try engine()
        _ = try e.store.appendDeliveries(deliveries([
            ("w1", "offer.extended", #"{"application": {"id": "a8"}, "candidate": {"id": "c8"}, "offer": {"tier": "B"}}"#),
            ("w2", "offer.viewed", #"{"application": {"id": "a8"}, "candidate": {"id": "c8"}}"#),
        ]))
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:00Z"))
        XCTAssertEqual(try e.store.deadLetters(limit: 10).filter { $0.kind == .delivery }.count, 2)
        _ = try e.store.appendDeliveries(deliveries([("w3", "candidate.stage_changed", #"{"application": {"id": "a8"}, "offer": {"id": "o8"}}"#)]))
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:01:00Z"))
        XCTAssertEqual(try e.store.pendingInbox(limit: 10).map(\.event.id), ["w1", "w2", "w3"], "once each, in their order, before the news")
        XCTAssertTrue(try e.store.deadLetters(limit: 10).isEmpty)
    }

    /// A start refused for a missing `require` field and the event that supplies it, mapped in
    /// one pass: the refusal happens as the pass processes the inbox, and the same pass heals it.
    func testARefusedStartAndItsNewsInOnePassStartTheJourney() throws {
        let e = try engine()
        let loop = EngineLoop(engine: e, clock: { Timestamp.parse("2026-03-06T16:00:05Z") ?? Date() })
        _ = try e.store.appendDeliveries(deliveries([
            ("v1", "candidate.applied", #"{"application": {"id": "a9"}, "candidate": {"id": "c9", "first_name": "Ada"}, "job": {"title": "SRE"}}"#),
            ("v2", "candidate.replied", #"{"application": {"id": "a9"}, "candidate": {"id": "c9", "email": "ada@example.com"}}"#),
        ]))
        _ = try loop.pass()
        XCTAssertEqual(try e.store.activeJourney(flow: "application-received", key: "a9")?.context["candidate"]?["email"], "ada@example.com")
        XCTAssertFalse(try e.store.deadLetters(limit: 10).contains { $0.kind == .review })
    }

    /// News that does not supply what the flow requires leaves the refused start waiting as it
    /// was (same item, no repeated `on_invalid`); once the data is stored, a sweep such as
    /// `serve` runs at start heals it (a crash between a batch and its healing loses nothing).
    func testARefusedStartWaitsUntilItsDataAndASweepHealsIt() throws {
        let e = try engine()
        _ = try e.store.appendDeliveries(deliveries([
            ("u1", "candidate.applied", #"{"application": {"id": "a10"}, "candidate": {"id": "c10", "first_name": "Ada"}, "job": {"title": "SRE"}}"#),
        ]))
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let waiting = try XCTUnwrap(try e.store.deadLetters(limit: 10).first { $0.kind == .review })
        _ = try e.store.appendDeliveries(deliveries([("u2", "candidate.stage_changed", #"{"application": {"id": "a10", "stage": "Screen"}}"#)],
                                                    at: "2026-03-06T16:01:00Z"))
        try e.mapDeliveries(sources: [:], now: t("2026-03-06T16:01:00Z"))
        XCTAssertEqual(try e.store.deadLetters(limit: 10).filter { $0.kind == .review }.map(\.number), [waiting.number], "the same item waits")
        // The email arrives in the profile, and the healing after it never ran (a crash).
        let profile = try XCTUnwrap(try e.store.applicationProfile("a10")?.objectValue)
        var candidate = profile["candidate"]?.objectValue ?? [:]
        candidate["email"] = "ada@example.com"
        var changed = profile
        changed["candidate"] = .object(candidate)
        try e.store.saveApplicationProfile("a10", .object(changed), at: t("2026-03-06T16:02:00Z"))
        XCTAssertEqual(try e.healRefusedStarts(now: t("2026-03-06T16:03:00Z")), 1)
        XCTAssertNotNil(try e.store.activeJourney(flow: "application-received", key: "a10"))
        XCTAssertEqual(try e.healRefusedStarts(now: t("2026-03-06T16:04:00Z")), 0, "healed once")
    }

    func testDuplicateDeliveryActsOnce() throws {
        let e = try engine()
        XCTAssertEqual(try e.submit([offer(), offer()], now: t("2026-03-06T16:00:00Z")), [true, false])
        XCTAssertEqual(try e.submit([offer()], now: t("2026-03-06T16:05:00Z")), [false])
        try e.processInbox(now: t("2026-03-06T16:05:00Z"))
        XCTAssertEqual(try e.store.outbox(journey: nil).count, 1)
    }

    func testOverdueTimersFireInDueOrderWithLateness() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1"), offer(id: "e2", application: "a2")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        // The engine was down for two weeks: everything overdue fires on recovery, oldest first,
        // and the states entered now arm their timers from now.
        XCTAssertEqual(try e.fireDueTimers(now: t("2026-03-21T12:00:00Z")), 4)
        var templates = try e.store.outbox(journey: nil).map { $0.template ?? $0.connector }
        XCTAssertEqual(templates, ["offer-next-steps", "offer-next-steps", "offer-check-in", "offer-check-in", "offer-deadline", "offer-deadline"])
        let journey = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertEqual(journey.state, "follow_up")
        let fired = try e.store.timeline(journey: journey.id).filter { $0.kind == "timer_fired" }
        XCTAssertEqual(fired.map { $0.fields["timer"] }, ["states.extended.after[0]", "after[0]"])
        XCTAssertEqual(fired.first?.fields["lateness_s"]?.numberValue, t("2026-03-21T12:00:00Z").timeIntervalSince(t("2026-03-09T09:00:00Z")))
        XCTAssertEqual(try e.fireDueTimers(now: t("2026-03-22T12:00:00Z")), 2)
        templates = try e.store.outbox(journey: nil).map { $0.template ?? $0.connector }
        XCTAssertEqual(templates.filter { $0 == "task" }.count, 2)
    }

    func testCancelEndsJourneyAndItsTimers() throws {
        let e = try engine()
        _ = try e.submit([offer()], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let id = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1")?.id)
        let pending = try XCTUnwrap(e.store as? SQLiteStore).outboxRows(journey: id).filter { $0.status == "pending" }
        XCTAssertFalse(pending.isEmpty, "the offer email waits in the outbox")
        XCTAssertEqual(try e.store.recentMessages(candidate: "c-a1", since: .distantPast).count, 1)
        XCTAssertEqual(try e.cancel(journeyId: id, now: t("2026-03-07T10:00:00Z"))?.outcome, "cancelled")
        XCTAssertEqual(try e.store.recentMessages(candidate: "c-a1", since: .distantPast).count, 0, "a cancelled message does not count")
        XCTAssertEqual(try e.store.timers(dueBefore: nil).filter { $0.journey == id }.count, 0)
        // In the cancellation's own transaction, so no dispatcher can claim them after it.
        let after = try XCTUnwrap(e.store as? SQLiteStore).outboxRows(journey: id)
        XCTAssertEqual(Set(after.map(\.status)), ["cancelled"])
        XCTAssertEqual(try e.fireDueTimers(now: t("2026-04-30T00:00:00Z")), 0)
    }

    /// A message quiet hours hold back goes with a cancel at once: its timer row is cancelled in
    /// the cancel's transaction and it stops counting for `max_messages` (it used to stay pending,
    /// and counted, until its release in the morning dropped it).
    func testCancelWithdrawsAHeldMessage() throws {
        let e = try engine()
        _ = try e.submit([offer()], now: t("2026-03-06T21:00:00Z"))
        try e.processInbox(now: t("2026-03-06T21:00:00Z"))   // 21:00 in London: quiet hours
        let id = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1")?.id)
        XCTAssertEqual(try e.store.timers(journey: id).filter(isDeferred).count, 1)
        XCTAssertEqual(try e.store.activeJourney(flow: "offer-nurture", key: "a1")?.held.count, 1, "stored with the journey")
        XCTAssertEqual(try e.store.recentMessages(candidate: "c-a1", since: .distantPast).count, 1)
        XCTAssertEqual(try e.cancel(journeyId: id, now: t("2026-03-06T22:00:00Z"))?.outcome, "cancelled")
        XCTAssertEqual(try e.store.timers(journey: id).count, 0)
        XCTAssertEqual(try e.store.timers(dueBefore: nil).filter { $0.journey == id }.count, 0)
        XCTAssertEqual(try e.store.recentMessages(candidate: "c-a1", since: .distantPast).count, 0)
        let restarted = try engine()
        XCTAssertEqual(try restarted.fireDueTimers(now: t("2026-03-07T09:00:00Z")), 0)
        XCTAssertEqual(try restarted.store.outbox(journey: id).count, 0)
        let dropped = try restarted.store.timeline(journey: id).filter { $0.kind == "deferred_dropped" }
        XCTAssertEqual(dropped.map { $0.fields["reason"] }, ["the journey ended"])
    }

    /// Another writer steps the journey between the cancel's read and its commit (here a second
    /// connection holding the write lock while it moves the journey on): the cancel's commit is
    /// refused as stale, and the cancel is computed again from a fresh read instead of failing.
    func testCancelRacingAnotherWriterIsRedoneFromAFreshRead() throws {
        let e = try engine()
        _ = try e.submit([offer()], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let before = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        let other = try SQLiteDatabase(path: dbPath)
        try other.execute("BEGIN IMMEDIATE")
        try other.query("""
            UPDATE journeys SET seq = seq + 1, data = json_set(data, '$.seq', seq + 1, '$.vars.note', 'the other writer') WHERE id = ?
            """, [.text(before.id)])
        let outcome = CancelOutcome()
        let finished = DispatchSemaphore(value: 0)
        let engine = e
        DispatchQueue.global().async {
            outcome.set(Result { try engine.cancel(journeyId: before.id, now: Timestamp.parse("2026-03-07T10:00:00Z") ?? Date()) })
            finished.signal()
        }
        // The cancel reads the journey at once (the other writer has not committed) and then
        // waits for the write lock.
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(finished.wait(timeout: .now()), .timedOut, "the cancel waits for the other writer")
        try other.execute("COMMIT")
        XCTAssertEqual(finished.wait(timeout: .now() + 15), .success)
        let ended = try XCTUnwrap(try XCTUnwrap(outcome.value).get())
        XCTAssertEqual(ended.outcome, "cancelled")
        XCTAssertEqual(ended.vars["note"], "the other writer", "ended from the other writer's journey, not the stale read")
        XCTAssertEqual(ended.seq, before.seq + 2)
        let stored = try XCTUnwrap(try e.store.journey(id: before.id))
        XCTAssertEqual(stored.outcome, "cancelled")
        XCTAssertEqual(stored.seq, before.seq + 2)
        XCTAssertEqual(try e.store.timers(journey: before.id).filter { !isDeferred($0) }, [])
    }

    /// Two engines on one file (a second `serve`, or `dead-letters replay` working the inbox
    /// itself) both read the same pending event and step it; the write lock is held meanwhile
    /// so that both have read before either commits. The event's effects are stored once: the
    /// loser's commit is refused, and redoing it from a fresh read finds the event processed.
    func testTwoEnginesOnOneFileApplyAnEventOnce() throws {
        let a = try engine()
        _ = try a.submit([offer()], now: t("2026-03-06T16:00:00Z"))
        try a.processInbox(now: t("2026-03-06T16:00:00Z"))
        let before = try XCTUnwrap(try a.store.activeJourney(flow: "offer-nurture", key: "a1"))
        let viewed = CanonicalEvent(id: "v1", type: "offer.viewed", occurredAt: t("2026-03-06T17:00:00Z"), data: ["application": ["id": "a1"]])
        _ = try a.submit([viewed], now: t("2026-03-06T17:00:00Z"))
        let b = try engine()
        let lock = try SQLiteDatabase(path: dbPath)
        try lock.execute("BEGIN IMMEDIATE")
        let group = DispatchGroup()
        let errors = CancelOutcome()
        for e in [a, b] {
            DispatchQueue.global().async(group: group) {
                do { try e.processInbox(now: Timestamp.parse("2026-03-06T17:00:00Z") ?? Date()) } catch { errors.set(.failure(error)) }
            }
        }
        Thread.sleep(forTimeInterval: 0.5)
        try lock.execute("COMMIT")
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        if case .failure(let error)? = errors.value { XCTFail("\(error)") }
        let after = try XCTUnwrap(try a.store.journey(id: before.id))
        XCTAssertEqual(after.state, "viewed")
        XCTAssertEqual(after.seq, before.seq + 1, "stepped once")
        let slack = try a.store.outbox(journey: before.id).filter { $0.connector == "slack" }
        XCTAssertEqual(slack.count, 1, "one heads-up, not two: \(slack.map(\.idempotencyKey))")
        XCTAssertTrue(try a.store.failedInbox().isEmpty, "the loser's copy is not parked as failed")
        XCTAssertTrue(try a.store.pendingInbox(limit: 10).isEmpty)
    }

    /// An action being sent when the journey is cancelled cannot be called back, but it is not
    /// tried again: neither a failed attempt nor a restart (which puts in-flight sends back)
    /// returns it to the outbox. One that got through is recorded as sent.
    func testCancelStopsRetriesOfAnActionBeingSent() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1"), offer(id: "e2", application: "a2")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let store = try XCTUnwrap(e.store as? SQLiteStore)
        let claimed = try store.claimActions(now: t("2026-03-06T16:00:01Z"), limit: 10)
        XCTAssertEqual(claimed.count, 2, "both offer emails are being sent")
        let j1 = try XCTUnwrap(try store.activeJourney(flow: "offer-nurture", key: "a1")).id
        let j2 = try XCTUnwrap(try store.activeJourney(flow: "offer-nurture", key: "a2")).id
        _ = try e.cancel(journeyId: j1, now: t("2026-03-06T16:00:02Z"))
        _ = try e.cancel(journeyId: j2, now: t("2026-03-06T16:00:02Z"))
        let first = try XCTUnwrap(claimed.first { $0.journey == j1 }), second = try XCTUnwrap(claimed.first { $0.journey == j2 })
        try store.recordAttempts([(first, .retry(retryAt: t("2026-03-06T16:00:03Z"), error: "timeout"), 0.1),
                                  (second, .sent(result: ["id": "m2"]), 0.1)], at: t("2026-03-06T16:00:03Z"))
        XCTAssertEqual(try store.resetInFlightActions(), 0)
        XCTAssertTrue(try store.claimActions(now: t("2026-03-07T00:00:00Z"), limit: 10).isEmpty, "nothing is tried again")
        XCTAssertEqual(try store.outboxRows(journey: j1).map(\.status), ["cancelled"])
        XCTAssertEqual(try store.outboxRows(journey: j2).map(\.status), ["sent"], "the one that went out says so")
    }

    /// Durably too: an `on_invalid` message deferred by quiet hours survives in the store with
    /// no journey behind it and goes out when quiet hours end.
    func testADeferredOnInvalidMessageGoesOutWithoutAJourney() throws {
        let root = NSTemporaryDirectory() + "hirewire-invalid-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try "default_timezone: Europe/London\n".write(toFile: root + "/hirewire.yaml", atomically: true, encoding: .utf8)
        try """
            flow: p
            start: {on: candidate.applied, key: application.id}
            require: [candidate.email]
            policy:
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
              on_invalid: [{sms: {to: "+44 7700 900123", text: "We need your email address"}}]
            states:
              a: {on: {candidate.hired: b}}
              b: {end: done}
            """.write(toFile: root + "/flows/p.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.errorCount, 0)
        let e = try engine(project)
        let applied = CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: t("2026-03-02T22:00:00Z"),
                                     data: ["candidate": ["id": "c1", "timezone": "Europe/London"], "application": ["id": "a1"]])
        _ = try e.submit([applied], now: t("2026-03-02T22:00:00Z"))
        try e.processInbox(now: t("2026-03-02T22:00:00Z"))
        XCTAssertNil(try e.store.activeJourney(flow: "p", key: "a1"))
        XCTAssertTrue(try e.store.outbox(journey: nil).isEmpty, "quiet hours")
        // A restart in between changes nothing.
        let again = try engine(project)
        XCTAssertEqual(try again.fireDueTimers(now: t("2026-03-03T08:00:00Z")), 1)
        XCTAssertEqual(try again.store.outbox(journey: nil).map(\.connector), ["sms"])
    }

    func isDeferred(_ timer: TimerRecord) -> Bool { if case .deferred = timer.kind { return true } else { return false } }

    func testMigrateMovesListedStatesWithoutRerunningActions() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1"), offer(id: "e2", application: "a2")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        _ = try e.submit([CanonicalEvent(id: "v2", type: "offer.viewed", occurredAt: t("2026-03-06T17:00:00Z"), data: ["application": ["id": "a2"]])],
                         now: t("2026-03-06T17:00:00Z"))
        try e.processInbox(now: t("2026-03-06T17:00:00Z"))
        let copy = NSTemporaryDirectory() + "hirewire-migrate-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        for item in ["flows", "templates", "hirewire.yaml"] {
            try FileManager.default.copyItem(atPath: Self.repo + "/" + item, toPath: copy + "/" + item)
        }
        let file = copy + "/flows/offer-nurture.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
            .replacingOccurrences(of: "  extended:\n", with: "  offered:\n")
            .replacingOccurrences(of: "initial: extended", with: "initial: offered")
            + "migrate: {extended: offered}\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let v2 = ProjectCompiler.compile(root: copy)
        XCTAssertEqual(v2.runErrors, [], "\(v2.diagnostics)")
        let e2 = try engine(v2)
        let outboxBefore = try e2.store.outbox(journey: nil).count
        XCTAssertEqual(try e2.migrate(now: t("2026-03-07T10:00:00Z")), 1)
        let moved = try XCTUnwrap(try e2.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertEqual(moved.state, "offered")
        XCTAssertEqual(moved.version, v2.machines["offer-nurture"]?.version)
        XCTAssertEqual(moved.stateEnteredAt, t("2026-03-06T16:00:00Z"))
        XCTAssertEqual(try e2.store.outbox(journey: nil).count, outboxBefore)
        // The new state's window timer is armed from the original entry: Monday 09:00 London.
        XCTAssertTrue(try e2.store.timers(dueBefore: nil).contains { $0.journey == moved.id && $0.due == t("2026-03-09T09:00:00Z") && $0.stateScoped })
        XCTAssertFalse(try e2.store.timers(dueBefore: nil).contains { $0.journey == moved.id && $0.id.contains("states.extended") })
        // a2 is in 'viewed', which the map does not list: it stays pinned.
        XCTAssertNotEqual(try e2.store.activeJourney(flow: "offer-nurture", key: "a2")?.version, moved.version)
        XCTAssertEqual(try e2.migrate(now: t("2026-03-07T10:00:00Z")), 0)
    }

    func testRunningJourneysStayOnTheirVersion() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let v1 = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1")?.version)
        // A new version renames follow_up and shortens the window.
        let copy = NSTemporaryDirectory() + "hirewire-v2-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        for item in ["flows", "templates", "hirewire.yaml"] {
            try FileManager.default.copyItem(atPath: Self.repo + "/" + item, toPath: copy + "/" + item)
        }
        let file = copy + "/flows/offer-nurture.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
            .replacingOccurrences(of: "follow_up", with: "check_in").replacingOccurrences(of: "between: [36h, 48h]", with: "between: [12h, 24h]")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let v2project = ProjectCompiler.compile(root: copy)
        XCTAssertEqual(v2project.errorCount, 0, "\(v2project.diagnostics)")
        let e2 = try engine(v2project)
        _ = try e2.submit([offer(id: "e2", application: "a2")], now: t("2026-03-06T16:00:00Z"))
        try e2.processInbox(now: t("2026-03-06T16:00:00Z"))
        try e2.fireDueTimers(now: t("2026-03-09T10:00:00Z"))
        let old = try XCTUnwrap(try e2.store.activeJourney(flow: "offer-nurture", key: "a1"))
        let new = try XCTUnwrap(try e2.store.activeJourney(flow: "offer-nurture", key: "a2"))
        XCTAssertEqual(old.version, v1)
        XCTAssertEqual(old.state, "follow_up")
        XCTAssertNotEqual(new.version, v1)
        XCTAssertEqual(new.state, "check_in")
    }

    /// A Windows-1252 apostrophe that arrived as U+0092 (and other characters YAML refuses raw)
    /// survives the store: after a restart the journey is found, its context intact, and its
    /// timers fire by stepping it.
    func testMisEncodedNamesSurviveARestart() throws {
        var event = offer()
        event.data = event.data.merging(["candidate": ["first_name": "O\u{92}Brien\u{85}\u{7F}"]])
        var e = try engine()
        _ = try e.submit([event], now: t("2026-03-06T16:00:00Z"))
        XCTAssertEqual(try e.processInbox(now: t("2026-03-06T16:00:00Z")), 1)
        e = try engine()
        let journey = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertEqual(journey.context["candidate"]?["first_name"], "O\u{92}Brien\u{85}\u{7F}")
        XCTAssertGreaterThan(try e.fireDueTimers(now: t("2026-03-10T12:00:00Z")), 0)
        XCTAssertTrue(try e.store.timeline(journey: journey.id).contains { $0.kind == "timer_fired" })
    }

    /// An inbox row that cannot be read back is parked with its reason, not left pending.
    func testUnreadableInboxRowIsParked() throws {
        let e = try engine()
        _ = try e.submit([offer()], now: t("2026-03-06T16:00:00Z"))
        let db = try SQLiteDatabase(path: dbPath)
        try db.query("UPDATE inbox SET data = '{\"id\": \"e1\", \"type\": ' WHERE event_id = 'e1'", [])
        let reopened = try engine()
        XCTAssertEqual(try reopened.processInbox(now: t("2026-03-06T16:00:00Z")), 0)
        XCTAssertEqual(try reopened.store.depths().inbox, 0, "no longer pending")
        var status = "", reason = ""
        try db.query("SELECT status, reason FROM inbox WHERE event_id = 'e1'") { row in status = row.text(0) ?? ""; reason = row.text(1) ?? "" }
        XCTAssertEqual(status, "failed")
        XCTAssertTrue(reason.contains("cannot be read"), reason)
    }

    /// A full disk is not the events' fault: none of them is parked, and once there is room
    /// again they are processed.
    func testAFullDiskLeavesEventsPendingInsteadOfParkingThem() throws {
        let store = try SQLiteStore(path: dbPath)
        let e = try JourneyEngine(project: Self.project, store: store)
        let offers = (1...300).map { offer(id: "e\($0)", application: "a\($0)") }
        _ = try e.submit(offers, now: t("2026-03-06T16:00:00Z"))
        // No free pages left to reuse (migrations drop tables), then no room to grow.
        try store.db.execute("VACUUM")
        var pages: Int64 = 0
        try store.db.query("PRAGMA page_count") { row in pages = row.integer(0) }
        try store.db.execute("PRAGMA max_page_count = \(pages)")
        XCTAssertThrowsError(try e.processInbox(now: t("2026-03-06T16:00:00Z"))) { error in
            XCTAssertTrue((error as? StoreError)?.transient == true, "\(error)")
        }
        let waiting = try store.depths().inbox
        XCTAssertGreaterThan(waiting, 0, "the events that found no room are still pending")
        XCTAssertTrue(try store.failedInbox().isEmpty, "nothing parked")
        try store.db.execute("PRAGMA max_page_count = 1073741823")
        XCTAssertEqual(try e.processInbox(now: t("2026-03-06T16:00:00Z")), waiting)
        XCTAssertEqual(try store.depths().inbox, 0)
        XCTAssertNotNil(try store.activeJourney(flow: "offer-nurture", key: "a300"))
    }

    /// A copy of the bundled project whose offer flow (v2) writes the check-in inline, with the
    /// template earlier versions used deleted: journeys of those versions can no longer compile.
    private func projectBreakingOfferVersions(migrate: String? = nil) throws -> String {
        let copy = NSTemporaryDirectory() + "hirewire-broken-\(UUID().uuidString)"
        for item in ["flows", "templates", "hirewire.yaml"] {
            try FileManager.default.copyItem(atPath: Self.repo + "/" + item, toPath: copy + "/" + item)
        }
        let file = copy + "/flows/offer-nurture.yaml"
        var text = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(
            of: "template: offer-check-in,", with: "subject: \"Checking in\", text: \"Any questions?\",")
        if let migrate { text = text.replacingOccurrences(of: "initial: extended", with: "migrate: \(migrate)\ninitial: extended") }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: copy + "/templates/offer-check-in.yaml")
        let v2 = ProjectCompiler.compile(root: copy)
        XCTAssertEqual(v2.runErrors, [], "\(v2.diagnostics)")
        return copy
    }

    /// A render error in a journey pinned to an older version points at the flow file's line and
    /// column as that version had it, not into a normalized copy of one line.
    func testARenderErrorOfAnOlderVersionPointsIntoItsFile() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let v1 = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        // A later version of the flow (two lines more at the top), and a fresh engine on it.
        let copy = NSTemporaryDirectory() + "hirewire-v2-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        for item in ["flows", "templates", "hirewire.yaml"] { try FileManager.default.copyItem(atPath: Self.repo + "/" + item, toPath: copy + "/" + item) }
        let file = copy + "/flows/offer-nurture.yaml"
        try ("# v2\n# still v2\n" + String(contentsOfFile: file, encoding: .utf8)).replacingOccurrences(of: "Keep candidates warm", with: "Keep them warm")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let e2 = try engine(ProjectCompiler.compile(root: copy))
        XCTAssertNotEqual(try e2.store.activeJourney(flow: "offer-nurture", key: "a1")?.version, e2.currentVersions["offer-nurture"])
        // ONBOARDING_URL is unset: the accepted state's HTTP call cannot render.
        _ = try e2.submit([CanonicalEvent(id: "e2", type: "offer.accepted", occurredAt: t("2026-03-07T10:00:00Z"), source: "test",
                                          data: ["application": ["id": "a1"], "offer": ["id": "o1"]])], now: t("2026-03-07T10:00:00Z"))
        try e2.processInbox(now: t("2026-03-07T10:00:00Z"))
        let failed = try XCTUnwrap(try e2.store.timeline(journey: v1.id).first { $0.kind == "action_failed" })
        let line = try String(contentsOfFile: Self.repo + "/flows/offer-nurture.yaml", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("ONBOARDING_URL") }.map { $0 + 1 }
        let reason = failed.fields["reason"]?.stringValue ?? ""
        XCTAssertTrue(reason.hasPrefix("flows/offer-nurture.yaml@\(v1.version):\(line ?? 0):"), reason)
    }

    /// `hirewire cancel` ends a journey whose version no longer compiles: nothing of its flow
    /// runs, and all its timers and pending actions go with it.
    func testAJourneyWhoseVersionNoLongerCompilesCanBeCancelled() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let v1 = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertFalse(try e.store.timers(journey: v1.id).isEmpty)
        let copy = try projectBreakingOfferVersions()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let e2 = try engine(ProjectCompiler.compile(root: copy))
        let ended = try XCTUnwrap(try e2.cancel(journeyId: v1.id, now: t("2026-03-07T09:00:00Z")))
        XCTAssertEqual(ended.outcome, "cancelled")
        XCTAssertNil(try e2.store.activeJourney(flow: "offer-nurture", key: "a1"))
        XCTAssertEqual(try e2.store.timers(journey: v1.id), [], "no timer of it is left to fire")
        XCTAssertFalse(try e2.store.outboxRows(journey: v1.id).contains { $0.status == "pending" })
        let end = try XCTUnwrap(try e2.store.timeline(journey: v1.id).last)
        XCTAssertEqual(end.kind, "end")
        XCTAssertTrue(end.fields["reason"]?.stringValue?.contains("no longer compiles") == true, "\(end.fields)")
        // A writer that read the journey before the cancel puts a timer back (a postponement):
        // once due, it is dropped for the ended journey, not postponed hour after hour.
        var late = StepResult()
        late.armTimers = [TimerRecord(id: v1.id + "/1/states.extended.after[0]", journey: v1.id, due: t("2026-03-09T10:00:00Z"), entry: 1,
                                      stateScoped: true, kind: .flow(path: "states.extended.after[0]"), windowEnd: nil, armedAt: t("2026-03-07T09:00:00Z"))]
        try e2.store.commit([StepCommit(result: late)], processedInbox: [], ignored: [])
        try e2.fireDueTimers(now: t("2026-03-09T10:00:00Z"))
        XCTAssertEqual(try e2.store.timers(journey: v1.id), [])
    }

    /// `migrate:` moves a journey whose version no longer compiles too, by the timers the store
    /// holds for it: the old state's timer is cancelled, the new state's armed, and the
    /// journey-wide timers the old version still had pending are owed by the new one.
    func testAJourneyWhoseVersionNoLongerCompilesCanMigrate() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let v1 = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        let before = Set(try e.store.timers(journey: v1.id).map(\.id))
        XCTAssertTrue(before.contains(v1.id + "/1/states.extended.after[0]"), "\(before)")
        let copy = try projectBreakingOfferVersions(migrate: "{extended: viewed}")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let project = ProjectCompiler.compile(root: copy)
        XCTAssertEqual(project.runErrors, [], "\(project.diagnostics)")
        let e2 = try engine(project)
        let now = t("2026-03-07T09:00:00Z")
        XCTAssertEqual(try e2.migrate(now: now), 1)
        let moved = try XCTUnwrap(try e2.store.journey(id: v1.id))
        XCTAssertEqual(moved.state, "viewed")
        XCTAssertEqual(moved.version, project.machines["offer-nurture"]?.version)
        let after = try e2.store.timers(journey: v1.id)
        XCTAssertFalse(after.contains { $0.id == v1.id + "/1/states.extended.after[0]" }, "the old state's timer is gone")
        XCTAssertEqual(after.first { $0.kind == .flow(path: "states.viewed.after[0]") }?.due, v1.stateEnteredAt.addingTimeInterval(86_400),
                       "armed from the original entered_at, as every migration does")
        XCTAssertNotNil(after.first { $0.kind == .timeout })
        XCTAssertEqual(after.filter { !$0.stateScoped && $0.kind != .timeout }.map(\.id).sorted(),
                       before.filter { $0.hasPrefix(v1.id + "/0/after") }.sorted(), "journey-wide timers carried to the new version")
    }

    /// A running journey whose version no longer compiles (its template was deleted) loses
    /// nothing: its timer waits and says why, an event for it goes to review instead of being
    /// applied with the new version's rules, and once the template is back the timer fires.
    func testAJourneyWhoseVersionNoLongerCompilesWaits() throws {
        let e = try engine()
        _ = try e.submit([offer(id: "e1", application: "a1")], now: t("2026-03-06T16:00:00Z"))
        try e.processInbox(now: t("2026-03-06T16:00:00Z"))
        let v1 = try XCTUnwrap(try e.store.activeJourney(flow: "offer-nurture", key: "a1"))
        let copy = try projectBreakingOfferVersions()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let e2 = try engine(ProjectCompiler.compile(root: copy))
        XCTAssertEqual(try e2.fireDueTimers(now: t("2026-03-09T10:00:00Z")), 1)
        var journey = try XCTUnwrap(try e2.store.journey(id: v1.id))
        XCTAssertEqual(journey.state, "extended")
        let held = try e2.store.timers(dueBefore: nil).first { $0.journey == v1.id && $0.kind == .flow(path: "states.extended.after[0]") }
        XCTAssertEqual(held?.due, t("2026-03-09T11:00:00Z"), "postponed an hour, not deleted")
        XCTAssertTrue(try e2.store.timeline(journey: v1.id).contains { $0.kind == "timer_postponed" })
        _ = try e2.submit([CanonicalEvent(id: "v1", type: "offer.viewed", occurredAt: t("2026-03-09T10:30:00Z"), source: "test",
                                          data: ["application": ["id": "a1"], "offer": ["id": "o1"]])], now: t("2026-03-09T10:30:00Z"))
        try e2.processInbox(now: t("2026-03-09T10:30:00Z"))
        journey = try XCTUnwrap(try e2.store.journey(id: v1.id))
        XCTAssertEqual(journey.state, "extended", "not applied with another version's rules")
        XCTAssertEqual(journey.version, v1.version)
        XCTAssertTrue(try e2.store.timeline(journey: v1.id).contains { $0.kind == "review" && $0.fields["event_id"] == "v1" })
        // The template comes back: the timer fires on v1, as written.
        try FileManager.default.copyItem(atPath: Self.repo + "/templates/offer-check-in.yaml", toPath: copy + "/templates/offer-check-in.yaml")
        let e3 = try engine(ProjectCompiler.compile(root: copy))
        XCTAssertEqual(try e3.fireDueTimers(now: t("2026-03-09T11:00:00Z")), 1)
        XCTAssertEqual(try e3.store.journey(id: v1.id)?.state, "follow_up")
        XCTAssertTrue(try e3.store.outbox(journey: v1.id).contains { $0.template == "offer-check-in" })
    }
}

/// The result of a call made on another thread. `@unchecked Sendable`: written once under the
/// lock before the caller is signalled, read after.
final class CancelOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<Journey?, Error>?

    func set(_ result: Result<Journey?, Error>) { lock.withLock { stored = result } }
    var value: Result<Journey?, Error>? { lock.withLock { stored } }
}
