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

    /// Journey `id` as step number `seq` left it (each later step of a journey numbers it higher).
    func journey(_ id: String, key: String = "a1", active: Bool = true, seq: Int = 1) -> Journey {
        Journey(id: id, flow: "offer", version: "v1", key: key, status: active ? .active : .ended(outcome: "hired"), state: "extended",
                stateEnteredAt: now, entry: 1, startedAt: now, context: ["candidate": ["id": "c1", "email": "ada@example.com"]],
                mergedAt: ["candidate": now], vars: ["n": 1], seq: seq, insteadAt: nil)
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
        result.candidateMessages = actions.map { CandidateMessage(at: now, key: $0.idempotencyKey) }
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

    /// Optimistic concurrency: a step whose journey is not newer than the stored row was
    /// computed from a stale read; its whole commit is refused and nothing of it is written.
    func testAStaleJourneyWriteIsRefusedWhole() throws {
        let (store, _) = try makeStore()
        var j = journey("j1")
        try store.commit([step(j)], processedInbox: [], ignored: [])
        j.seq = 2
        j.state = "viewed"
        try store.commit([step(j)], processedInbox: [], ignored: [])
        var stale = j
        stale.state = "accepted"
        XCTAssertThrowsError(try store.commit([step(stale, timers: [timer("t9", due: 5)], actions: [action("j1:2:late")])], processedInbox: [], ignored: [])) { error in
            XCTAssertTrue("\(error)".contains(staleJourneyMessage), "\(error)")
            XCTAssertTrue((error as? StoreError)?.isStaleJourney == true, "the engine redoes such a step from a fresh read")
        }
        XCTAssertEqual(try store.journey(id: "j1")?.state, "viewed")
        XCTAssertTrue(try store.timers(dueBefore: nil).isEmpty)
        XCTAssertTrue(try store.outbox(journey: "j1").isEmpty)
        stale.seq = 3
        try store.commit([step(stale)], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.journey(id: "j1")?.state, "accepted")
    }

    /// Two engines on one file may read the same pending event: the commit of the second to
    /// mark it processed is refused whole (its step is not written, its actions not queued), and
    /// says so, so the engine skips the event instead of applying it again or parking it.
    func testAnInboxEventIsProcessedOnlyOnce() throws {
        let (store, _) = try makeStore()
        let e1 = CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, data: ["application": ["id": "a1"]])
        _ = try store.appendInbox([e1], receivedAt: now)
        let seq = try XCTUnwrap(try store.pendingInbox(limit: 10).first?.sequence)
        try store.commit([step(journey("j1"), actions: [action("j1:1:first")])], processedInbox: [seq], ignored: [])
        XCTAssertThrowsError(try store.commit([step(journey("j2", key: "a2"), actions: [action("j2:1:again")])], processedInbox: [seq], ignored: [])) { error in
            XCTAssertTrue((error as? StoreError)?.isInboxTaken == true, "\(error)")
            XCTAssertTrue("\(error)".contains(inboxTakenMessage), "\(error)")
        }
        XCTAssertNil(try store.journey(id: "j2"), "nothing of the refused commit is written")
        XCTAssertTrue(try store.outbox(journey: "j2").isEmpty)
        XCTAssertEqual(try store.outbox(journey: "j1").map(\.idempotencyKey), ["j1:1:first"])
        // Parking it afterwards does not undo its processing either.
        try store.failInbox(seq, reason: "late")
        XCTAssertTrue(try store.failedInbox().isEmpty)
    }

    /// A review item's replay and its `replayed` mark are one transaction: replayed twice (or
    /// by two people at once), its event is routed once.
    func testAReviewItemIsReplayedOnce() throws {
        let (store, _) = try makeStore()
        var review = StepResult()
        review.timeline = [TimelineEntry(at: now, flow: "offer", journey: "", key: "a1", kind: "review",
                                         fields: ["event": "offer.extended", "event_id": "e1", "reason": "missing candidate.email"])]
        try store.commit([StepCommit(result: review)], processedInbox: [], ignored: [])
        let item = try XCTUnwrap(try store.deadLetters(limit: 10).first { $0.kind == .review })
        XCTAssertTrue(try store.commitReplay([step(journey("j1"), actions: [action("j1:1:first")])], ignored: [], resolvingReview: item.number, at: now))
        XCTAssertFalse(try store.commitReplay([step(journey("j2", key: "a2"), actions: [action("j2:1:again")])], ignored: [],
                                              resolvingReview: item.number, at: now))
        XCTAssertNotNil(try store.journey(id: "j1"))
        XCTAssertNil(try store.journey(id: "j2"), "the second replay wrote nothing")
        XCTAssertTrue(try store.outbox(journey: "j2").isEmpty)
        XCTAssertFalse(try store.deadLetters(limit: 10).contains { $0.kind == .review }, "no longer waiting")
    }

    /// Review items are found by the application their event is about, waiting ones only,
    /// oldest first; one without an application (a version that no longer compiles) never is.
    func testWaitingReviewsAreFoundByTheirApplication() throws {
        let (store, _) = try makeStore()
        var reviews = StepResult()
        reviews.timeline = [("offer", "e1", "a1"), ("intro", "e2", "a1"), ("offer", "e3", "a2"), ("offer", "e4", nil)].map { flow, event, application in
            var fields: TimelineFields = ["event": "candidate.applied", "event_id": .string(event), "reason": "missing candidate.email"]
            if let application { fields["application"] = .string(application) }
            return TimelineEntry(at: now, flow: flow, journey: "", key: application ?? "k", kind: "review", fields: fields)
        }
        try store.commit([StepCommit(result: reviews)], processedInbox: [], ignored: [])
        let a1 = try store.waitingReviews(application: "a1")
        XCTAssertEqual(a1.map { $0.detail["event_id"] }, ["e1", "e2"])
        XCTAssertEqual(a1.map(\.flow), ["offer", "intro"])
        XCTAssertTrue(try store.commitReplay([], ignored: [], resolvingReview: a1[0].number, at: now))
        XCTAssertEqual(try store.waitingReviews(application: "a1").map { $0.detail["event_id"] }, ["e2"], "a replayed one no longer waits")
        XCTAssertTrue(try store.dismissDeadLetter(.review, a1[1].number, at: now))
        XCTAssertTrue(try store.waitingReviews(application: "a1").isEmpty)
        XCTAssertEqual(try store.waitingReviews(application: "a2").count, 1)
        XCTAssertTrue(try store.waitingReviews(application: "k").isEmpty)
    }

    /// Narrow dead-letter queries find what they ask for, and only that, among other waiting
    /// items; the count is of every kind.
    func testDeadLetterQueriesNarrowInTheStore() throws {
        let (store, _) = try makeStore()
        // Three reviews: two flows, two events; one of them is dismissed.
        var reviews = StepResult()
        reviews.timeline = [("offer", "e1", "a1"), ("offer", "e2", "a2"), ("intro", "e1", "a1"), ("offer", "e3", "a3")].map { flow, event, key in
            TimelineEntry(at: now, flow: flow, journey: "", key: key, kind: "review",
                          fields: ["event": "offer.extended", "event_id": .string(event), "reason": .string("missing candidate.email (\(flow))")])
        }
        try store.commit([StepCommit(result: reviews)], processedInbox: [], ignored: [])
        let all = try store.deadLetters(DeadLetterQuery(limit: Int.max))
        XCTAssertEqual(all.count, 4)
        let e3 = try XCTUnwrap(all.first { $0.detail["event_id"] == "e3" })
        XCTAssertTrue(try store.dismissDeadLetter(.review, e3.number, at: now))
        // A dead action beside them.
        try store.commit([step(journey("j1"), actions: [action("j1:1:first")])], processedInbox: [], ignored: [])
        let claimed = try store.claimActions(now: now.addingTimeInterval(60), limit: 10)
        try store.recordAttempts(claimed.map { ($0, AttemptOutcome.dead(error: "mailbox full"), 0.01) }, at: now.addingTimeInterval(60))

        XCTAssertEqual(try store.deadLetterCount(), 4, "three reviews waiting and one action")
        XCTAssertEqual(try store.deadLetters(limit: 2).count, 2)
        XCTAssertEqual(try store.deadLetters(limit: 1).first?.kind, .action, "the newest first")

        let ofE1 = try store.deadLetters(DeadLetterQuery(kinds: [.review], eventIds: ["e1"], limit: Int.max))
        XCTAssertEqual(Set(ofE1.compactMap(\.flow)), ["offer", "intro"])
        XCTAssertTrue(ofE1.allSatisfy { $0.detail["event_id"] == "e1" })
        XCTAssertEqual(try store.deadLetters(DeadLetterQuery(eventIds: ["e1", "e2"], flow: "offer", limit: Int.max)).map { $0.detail["event_id"] },
                       ["e2", "e1"], "one flow's reviews of those events, newest first")
        XCTAssertTrue(try store.deadLetters(DeadLetterQuery(eventIds: ["e3"], limit: Int.max)).isEmpty, "a dismissed item no longer waits")
        XCTAssertTrue(try store.deadLetters(DeadLetterQuery(eventIds: [], limit: Int.max)).isEmpty)
        let first = try XCTUnwrap(ofE1.min { $0.number < $1.number })
        XCTAssertEqual(try store.deadLetters(DeadLetterQuery(kinds: [.review], after: first.number, eventIds: ["e1"], limit: Int.max)).count, 1)

        // Reviews of more events than SQLite takes parameters (32,766) are still asked in one query.
        let many = (0..<40_000).map { "x\($0)" } + ["e1"]
        XCTAssertEqual(try store.deadLetters(DeadLetterQuery(kinds: [.review], eventIds: many, limit: Int.max)).count, 2)
        let dead = try XCTUnwrap(try store.deadLetters(DeadLetterQuery(kinds: [.action], limit: 10)).first)
        XCTAssertEqual(dead.reason, "mailbox full")
        XCTAssertEqual(try store.deadLetter(.action, dead.number)?.id, dead.id)
        XCTAssertEqual(try store.deadLetter(.review, first.number)?.detail["event_id"], "e1")
        XCTAssertNil(try store.deadLetter(.review, e3.number), "dismissed")
        XCTAssertNil(try store.deadLetter(.delivery, first.number), "no delivery has that number")
        XCTAssertNil(try store.deadLetter(.review, 999_999))
    }

    /// Dead actions are listed by when they died, not by when they were queued: the one that
    /// died last is the newest even if it was queued first.
    func testDeadActionsAreNewestByTheirDeath() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), actions: [action("j1:1:first")]), step(journey("j2", key: "a2"), actions: [action("j2:1:second")])],
                         processedInbox: [], ignored: [])
        let claimed = try store.claimActions(now: now.addingTimeInterval(60), limit: 10)
        XCTAssertEqual(claimed.count, 2)
        for item in claimed {
            // The one queued first dies last.
            let at = now.addingTimeInterval(item.action.idempotencyKey == "j1:1:first" ? 600 : 300)
            try store.recordAttempts([(item, AttemptOutcome.dead(error: "gone"), 0.01)], at: at)
        }
        XCTAssertEqual(try store.deadLetters(limit: 1).first?.detail["key"], "j1:1:first")
        XCTAssertEqual(try store.deadLetters(DeadLetterQuery(kinds: [.action], limit: 1)).first?.detail["key"], "j1:1:first")
    }

    /// Delivery queries filter in the store: an old delivery is found by its id however many
    /// came in after it, and source, time and mapped type narrow the list before its limit.
    func testDeliveryQueriesFilterBeforeTheLimit() throws {
        let (store, _) = try makeStore()
        let body = Array("{}".utf8)
        var batch = [Delivery(source: "greenhouse", eventId: "old", receivedAt: now, headers: [:], body: body)]
        for i in 0..<300 {
            batch.append(Delivery(source: i % 3 == 0 ? "lever" : "events", eventId: "e\(i)", receivedAt: now.addingTimeInterval(Double(i + 1)),
                                  headers: [:], body: body))
        }
        XCTAssertEqual(try store.appendDeliveries(batch).filter { $0 }.count, 301)
        let pending = try store.pendingDeliveries(limit: 1000)
        for d in pending where d.eventId == "e3" || d.eventId == "e297" { try store.markDelivery(d.sequence, status: "accepted", detail: "offer.extended") }
        for d in pending where d.eventId == "e6" { try store.markDelivery(d.sequence, status: "ignored", detail: "offer.extended") }

        XCTAssertEqual(try store.deliveries(DeliveryQuery(eventId: "old", limit: 1)).map(\.source), ["greenhouse"], "found past 300 newer ones")
        XCTAssertTrue(try store.deliveries(DeliveryQuery(source: "lever", eventId: "old", limit: 1)).isEmpty)
        let lever = try store.deliveries(DeliveryQuery(source: "lever", limit: 500))
        XCTAssertEqual(lever.count, 100)
        XCTAssertTrue(lever.allSatisfy { $0.source == "lever" })
        XCTAssertEqual(lever.first?.eventId, "e297", "newest first")
        XCTAssertEqual(try store.deliveries(DeliveryQuery(mappedTo: "offer.extended", limit: 50)).map(\.eventId), ["e297", "e3"],
                       "accepted ones only, an ignored delivery of that type left out")
        XCTAssertEqual(try store.deliveries(DeliveryQuery(since: now.addingTimeInterval(299), limit: 50)).map(\.eventId), ["e299", "e298"])
        XCTAssertEqual(try store.deliveries(DeliveryQuery(source: "events", limit: 5)).count, 5)
        XCTAssertEqual(try store.deliveries(DeliveryQuery(limit: Int.max)).count, 301)
    }

    /// A mapping batch is written whole: inbox events (a repeated id dropped), profiles and every
    /// delivery's outcome, the last mark of a delivery standing. A delivery in review remembers
    /// its application and is found by it, oldest first, until it is mapped again.
    func testMappingBatchesAreWrittenWholeAndReviewsAreFoundByApplication() throws {
        let (store, _) = try makeStore()
        let body = Array("{}".utf8)
        let batch = ["r1", "r2", "r3", "ok", "r4"].enumerated().map { i, id in
            Delivery(source: "greenhouse", eventId: id, receivedAt: now.addingTimeInterval(Double(i)), headers: [:], body: body)
        }
        XCTAssertEqual(try store.appendDeliveries(batch), [true, true, true, true, true])
        let seq = Dictionary(uniqueKeysWithValues: try store.pendingDeliveries(limit: 10).map { ($0.eventId, $0.sequence) })
        func event(_ id: String) -> CanonicalEvent {
            CanonicalEvent(id: id, type: "candidate.applied", occurredAt: now, source: "greenhouse", data: ["application": ["id": "a3"]])
        }
        func mark(_ id: String, _ status: String, _ application: String?) throws -> DeliveryMark {
            DeliveryMark(sequence: try XCTUnwrap(seq[id]), status: status, detail: status == "review" ? "offer.extended without candidate.id" : "candidate.applied",
                         application: application)
        }
        var first = DeliveryOutcomes()
        first.marks = [try mark("r1", "review", "a1"), try mark("r2", "review", "a2"), try mark("r3", "review", nil),
                       try mark("ok", "accepted", nil), try mark("r4", "review", "a2"), try mark("r4", "review", "a1")]
        first.events = [(try XCTUnwrap(seq["ok"]), event("greenhouse:ok")), (try XCTUnwrap(seq["ok"]), event("greenhouse:ok"))]
        first.profiles = ["a3": ["candidate": ["email": "ada@example.com"]]]
        try store.commitMapping(first, at: now)
        XCTAssertTrue(try store.pendingDeliveries(limit: 10).isEmpty)
        XCTAssertEqual(try store.pendingInbox(limit: 10).map(\.event.id), ["greenhouse:ok"], "the repeated id is dropped")
        XCTAssertEqual(try store.applicationProfile("a3")?["candidate"]["email"], "ada@example.com")
        XCTAssertEqual(try store.deliveries(DeliveryQuery(eventId: "ok", limit: 1)).first?.status, "accepted")
        XCTAssertEqual(try store.deadLetters(DeadLetterQuery(kinds: [.delivery], limit: 10)).count, 4)

        XCTAssertEqual(try store.reviewedDeliveries(application: "a1").map(\.eventId), ["r1", "r4"], "oldest first; r4's last mark stands")
        XCTAssertEqual(try store.reviewedDeliveries(application: "a2").map(\.eventId), ["r2"], "r4 marked again for another application")
        XCTAssertTrue(try store.reviewedDeliveries(application: "nobody").isEmpty)
        var again = DeliveryOutcomes()
        again.marks = [try mark("r1", "accepted", nil)]
        try store.commitMapping(again, at: now)
        XCTAssertEqual(try store.reviewedDeliveries(application: "a1").map(\.eventId), ["r4"], "mapped again, it no longer waits")

        // Dismissed by a person while a batch that heals it was being mapped: it stays dismissed,
        // and its event stays out of the inbox.
        XCTAssertTrue(try store.dismissDeadLetter(.delivery, try XCTUnwrap(seq["r4"]), at: now))
        var late = DeliveryOutcomes()
        late.marks = [try mark("r4", "accepted", nil)]
        late.events = [(try XCTUnwrap(seq["r4"]), event("greenhouse:r4"))]
        try store.commitMapping(late, at: now)
        XCTAssertEqual(try store.deliveries(DeliveryQuery(eventId: "r4", limit: 1)).first?.status, "dismissed")
        XCTAssertFalse(try store.pendingInbox(limit: 10).contains { $0.event.id == "greenhouse:r4" })
    }

    func testCommitWritesJourneyTimersOutboxAndAuditTogether() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), timers: [timer("t1", due: 60), timer("t2", due: 30)], actions: [action("j1:1:x")])],
                         processedInbox: [], ignored: [])
        XCTAssertEqual(try store.activeJourney(flow: "offer", key: "a1")?.id, "j1")
        XCTAssertEqual(try store.journey(id: "j1")?.context["candidate"]?["email"], "ada@example.com")
        XCTAssertEqual(try store.timers(dueBefore: nil).map(\.id), ["t2", "t1"])
        XCTAssertEqual(try store.timers(dueBefore: now.addingTimeInterval(60)).map(\.id), ["t2"], "before means strictly before")
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
        try store.commit([step(journey("j1", seq: 2), cancel: ["t2"], fired: "t1")], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.timers(dueBefore: nil).map(\.id), ["t3"])
    }

    func testAJourneysTimersAreFoundByItsId() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), timers: [timer("j1/1/a", due: 20), timer("j1/0/timeout", due: 90)]),
                          step(journey("j10", key: "a10"), timers: [timer("j10/1/a", journey: "j10", due: 10)])],
                         processedInbox: [], ignored: [])
        XCTAssertEqual(try store.timers(journey: "j1").map(\.id), ["j1/1/a", "j1/0/timeout"], "due order; not j10's")
        XCTAssertEqual(try store.timers(journey: "j10").map(\.id), ["j10/1/a"])
        XCTAssertEqual(try store.timers(journey: "j2"), [])
    }

    func testOutboxKeysAreUniqueSoARepeatedActionQueuesOnce() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"), actions: [action("k")])], processedInbox: [], ignored: [])
        try store.commit([step(journey("j1", seq: 2), actions: [action("k")])], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.outbox(journey: nil).count, 1)
    }

    func testOneActiveJourneyPerFlowAndKey() throws {
        let (store, _) = try makeStore()
        try store.commit([step(journey("j1"))], processedInbox: [], ignored: [])
        XCTAssertThrowsError(try store.commit([step(journey("j2"))], processedInbox: [], ignored: []))
        // The failed batch left nothing behind.
        XCTAssertNil(try store.journey(id: "j2"))
        try store.commit([step(journey("j1", active: false, seq: 2)), step(journey("j2"))], processedInbox: [], ignored: [])
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

    /// A database written before migration 9 (timers with a rowid, the old outbox indexes)
    /// keeps its timers and actions, and every outbox state is still found through the new
    /// partial indexes.
    func testMigrationNineKeepsTimersAndOutboxStates() throws {
        let dir = NSTemporaryDirectory() + "hirewire-m9-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/hirewire.db"
        do {
            let old = try SQLiteDatabase(path: path)
            try old.execute("PRAGMA journal_mode=WAL;")
            for sql in SQLiteSchema.migrations.prefix(8) { try old.execute(sql) }
            try old.execute("PRAGMA user_version = 8")
            for t in [timer("t2", due: 20), timer("t1", due: 10)] {
                try old.query("INSERT INTO timers (id, journey, due, data) VALUES (?, ?, ?, ?)",
                              [.text(t.id), .text(t.journey), .real(t.due.timeIntervalSince1970), .text(t.encodedJSON)])
            }
            for (key, status) in [("k-pending", "pending"), ("k-sending", "sending"), ("k-dead", "dead"), ("k-sent", "sent")] {
                try old.query("INSERT INTO outbox (idempotency_key, journey, connector, status, created_at, data, next_at, last_error) VALUES (?, 'j1', 'email', ?, ?, ?, 0, ?)",
                              [.text(key), .text(status), .real(now.timeIntervalSince1970), .text(action(key).encodedJSON), .text("boom")])
            }
        }
        let store = try SQLiteStore(path: path)
        XCTAssertEqual(try store.timers(dueBefore: nil).map(\.id), ["t1", "t2"], "timers kept, in due order")
        XCTAssertEqual(try store.nextDue(), now.addingTimeInterval(10))
        XCTAssertEqual(try store.deadLetters(limit: 10).count, 1, "the dead action is still a dead letter")
        XCTAssertEqual(try store.resetInFlightActions(), 1, "the action left sending is found")
        XCTAssertEqual(try store.claimActions(now: now, limit: 10).map(\.action.idempotencyKey).sorted(), ["k-pending", "k-sending"])
        // Fired and cancelled timers are deleted by id in the rebuilt table.
        var result = StepResult(journey: journey("j1"))
        result.cancelTimers = ["t2"]
        try store.commit([StepCommit(result: result, firedTimer: "t1")], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.timers(dueBefore: nil).count, 0)
    }
}
