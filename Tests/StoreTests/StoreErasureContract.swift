import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage
@testable import HirewireStore

/// Erasure and retention, as every JourneyStore must do them (part of the contract).
extension JourneyStoreContract {
    /// A journey of candidate `candidate` on application `application`, ended unless `active`.
    func personJourney(_ id: String, candidate: String, application: String, email: String, active: Bool = false) -> Journey {
        var j = journey(id, key: application, active: active)
        j.context = ["candidate": ["id": .string(candidate), "email": .string(email), "first_name": "Ada"],
                     "application": ["id": .string(application)]]
        j.vars = ["note": "likes Rust"]
        return j
    }

    func personStep(_ j: Journey, at: Date) -> StepCommit {
        var mail = action("\(j.id):1:mail")
        mail.candidate = j.context["candidate"]?["id"].stringValue
        mail.arguments = ["to": j.context["candidate"]?["email"] ?? .null]
        var commit = step(j, timers: [timer("\(j.id)/1/states.extended.after[0]", journey: j.id, due: 3600)], actions: [mail])
        commit.result.timeline = [TimelineEntry(at: at, flow: "offer", journey: j.id, key: j.key, kind: "set",
                                                fields: ["vars": .object(j.vars)]),
                                  TimelineEntry(at: at, flow: "offer", journey: j.id, key: j.key, kind: "transition",
                                                fields: ["from": "extended", "to": "viewed", "event": "offer.viewed"])]
        return commit
    }

    func testErasureRemovesOneCandidatesDataAndKeepsTheCounts() throws {
        let (store, _) = try makeStore()
        let ada = personJourney("j1", candidate: "c1", application: "a1", email: "ada@example.com")
        let bob = personJourney("j2", candidate: "c2", application: "a2", email: "bob@example.com")
        try store.commit([personStep(ada, at: now), personStep(bob, at: now)], processedInbox: [], ignored: [])
        _ = try store.appendInbox([
            CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, data: ["candidate": ["id": "c1"], "application": ["id": "a1"]]),
            CanonicalEvent(id: "e2", type: "offer.viewed", occurredAt: now, data: ["application": ["id": "a1"]]),
            CanonicalEvent(id: "e3", type: "offer.extended", occurredAt: now, data: ["candidate": ["id": "c2"], "application": ["id": "a2"]]),
        ], receivedAt: now)
        try store.saveApplicationProfile("a1", ["candidate": ["id": "c1", "email": "ada@example.com"]], at: now)
        try store.saveApplicationProfile("a2", ["candidate": ["id": "c2"]], at: now)

        let scope = try store.erasureScope(candidate: "c1")
        XCTAssertEqual(scope.journeys, ["j1"])
        XCTAssertEqual(scope.applications, ["a1"])
        XCTAssertEqual(scope.emails, ["ada@example.com"])
        let counts = try store.erase(scope, at: now)
        XCTAssertEqual(counts.journeys, 1)
        XCTAssertEqual(counts.events, 2, "the event naming the candidate and the one naming only the application")
        XCTAssertEqual(counts.actions, 1)
        XCTAssertEqual(counts.timers, 1)
        XCTAssertEqual(counts.applications, 1)
        XCTAssertEqual(counts.messages, 1)
        XCTAssertEqual(counts.auditRows, 1, "the step's entries are one packed row")

        let erased = try XCTUnwrap(try store.journey(id: "j1"))
        XCTAssertEqual(erased.context, [:])
        XCTAssertEqual(erased.vars, [:])
        XCTAssertEqual(erased.key, "")
        XCTAssertEqual(erased.state, "extended")
        XCTAssertEqual(erased.outcome, "hired", "the journey is still counted, with its outcome")
        // A step computed from the journey as it was before (a server's timer firing on it) is
        // refused as stale: it cannot write the old context back.
        var late = ada
        late.seq += 1
        XCTAssertThrowsError(try store.commit([step(late)], processedInbox: [], ignored: [])) { error in
            XCTAssertTrue((error as? StoreError)?.isStaleJourney == true, "\(error)")
        }
        XCTAssertEqual(try store.journey(id: "j1")?.context, [:])
        // Of the events' data only what `report` counts offers by stays, under a made-up id.
        let e1 = try XCTUnwrap(try store.inboxEvent(id: "e1"))
        XCTAssertEqual(e1.data["erased"], true)
        XCTAssertEqual(e1.data["candidate"], .null)
        XCTAssertEqual(e1.data["application"], .null)
        let alias = try XCTUnwrap(e1.data["offer"]["id"].stringValue)
        XCTAssertTrue(alias.hasPrefix("erased-"), alias)
        XCTAssertEqual(try store.inboxEvent(id: "e2")?.data["offer"]["id"].stringValue, alias, "one offer keeps one id")
        XCTAssertEqual(try store.inboxEvent(id: "e1")?.type, "offer.extended", "the id still deduplicates")
        XCTAssertEqual(try store.appendInbox([CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, data: [:])], receivedAt: now), [false])
        XCTAssertEqual(try store.outbox(journey: "j1").map(\.arguments), [[:]])
        XCTAssertEqual(try store.outbox(journey: "j1").map(\.candidate), [nil])
        XCTAssertTrue(try store.timers(journey: "j1").isEmpty)
        XCTAssertTrue(try store.recentMessages(candidate: "c1", since: now.addingTimeInterval(-60)).isEmpty)
        XCTAssertNil(try store.applicationProfile("a1"))
        let timeline = try store.timeline(journey: "j1")
        XCTAssertEqual(timeline.map(\.kind), ["set", "transition"])
        XCTAssertEqual(timeline.first?.fields.keys, [], "variables are data")
        XCTAssertEqual(timeline.last?.fields["to"], "viewed", "what the engine wrote stays")

        // The other candidate keeps everything.
        XCTAssertEqual(try store.journey(id: "j2")?.context["candidate"]?["email"], "bob@example.com")
        XCTAssertEqual(try store.inboxEvent(id: "e3")?.data["candidate"]["id"], "c2")
        XCTAssertEqual(try store.outbox(journey: "j2").first?.arguments["to"], "bob@example.com")
        XCTAssertEqual(try store.timers(journey: "j2").count, 1)
        XCTAssertNotNil(try store.applicationProfile("a2"))
        XCTAssertEqual(try store.timeline(journey: "j2").first?.fields["vars"], .object(["note": "likes Rust"]))

        XCTAssertEqual(try store.erase(scope, at: now), ErasureCounts(), "a second run changes nothing more")
        XCTAssertEqual(try store.erasureScope(candidate: "c1").applications, [], "nothing names the candidate any more")
    }

    /// A review item of the application (an event refused for missing data) is scrubbed and no
    /// longer waits: there is nothing left to replay.
    func testErasureResolvesTheApplicationsReviewItems() throws {
        let (store, _) = try makeStore()
        var review = StepResult()
        review.timeline = [TimelineEntry(at: now, flow: "offer", journey: "", key: "a1", kind: "review",
                                         fields: ["event": "offer.extended", "event_id": "e1", "reason": "missing candidate.email", "application": "a1"])]
        // Its `on_invalid` action names the candidate, outside any journey.
        review.actions = [action("review:e1:policy.on_invalid[0]")]
        try store.commit([StepCommit(result: review)], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.waitingReviews(application: "a1").count, 1)
        let counts = try store.erase(ErasureScope(candidate: "c1", applications: ["a1"]), at: now)
        XCTAssertEqual(counts.auditRows, 1)
        XCTAssertEqual(counts.actions, 1)
        let unsent = try XCTUnwrap(try store.outboxRows(journey: nil).first)
        XCTAssertEqual(unsent.item.action.arguments, [:])
        XCTAssertEqual(unsent.status, "cancelled", "an action of an erased candidate not sent yet never goes out")
        XCTAssertTrue(try store.waitingReviews(application: "a1").isEmpty)
        XCTAssertFalse(try store.deadLetters(limit: 10).contains { $0.kind == .review })
    }

    /// Retention: ended journeys past the cutoff are found (live ones and recent ones are not,
    /// nor an application a live journey still needs); settled events past theirs are deleted.
    func testRetentionFindsExpiredJourneysAndPurgesSettledEvents() throws {
        let (store, _) = try makeStore()
        let old = now.addingTimeInterval(-400 * 86400)
        var ended = personJourney("j1", candidate: "c1", application: "a1", email: "ada@example.com")
        ended.stateEnteredAt = old
        var shared = personJourney("j2", candidate: "c2", application: "a2", email: "bob@example.com")
        shared.stateEnteredAt = old
        let live = personJourney("j3", candidate: "c2", application: "a2", email: "bob@example.com", active: true)
        let recent = personJourney("j4", candidate: "c3", application: "a3", email: "cy@example.com")
        try store.commit([personStep(ended, at: old), personStep(shared, at: old), personStep(live, at: now), personStep(recent, at: now)],
                         processedInbox: [], ignored: [])
        let scope = try store.expiredScope(endedBefore: now.addingTimeInterval(-365 * 86400), limit: 10)
        XCTAssertEqual(scope.journeys.sorted(), ["j1", "j2"])
        XCTAssertEqual(scope.applications, ["a1"], "a2 still has a live journey")
        XCTAssertNil(scope.candidate)
        XCTAssertEqual(try store.erase(scope, at: now).journeys, 2)
        XCTAssertEqual(try store.expiredScope(endedBefore: now.addingTimeInterval(1), limit: 10).journeys, ["j4"], "erased journeys are not found again")
        XCTAssertEqual(try store.journey(id: "j3")?.context["candidate"]?["id"], "c2")

        _ = try store.appendInbox([CanonicalEvent(id: "old", type: "x.y", occurredAt: old, data: [:])], receivedAt: old)
        _ = try store.appendInbox([CanonicalEvent(id: "waiting", type: "x.y", occurredAt: old, data: [:])], receivedAt: old)
        _ = try store.appendInbox([CanonicalEvent(id: "new", type: "x.y", occurredAt: now, data: [:])], receivedAt: now)
        let pending = try store.pendingInbox(limit: 10)
        try store.commit([], processedInbox: pending.filter { $0.event.id != "waiting" }.map(\.sequence), ignored: [])
        XCTAssertEqual(try store.purgeEvents(before: now.addingTimeInterval(-90 * 86400)), 1)
        XCTAssertNil(try store.inboxEvent(id: "old"))
        XCTAssertNotNil(try store.inboxEvent(id: "waiting"), "an event not processed yet is work still owed")
        XCTAssertNotNil(try store.inboxEvent(id: "new"))
    }

    /// Another candidate's raw deliveries stay whole: one attributed to their application, and
    /// one whose body holds an address that merely contains the erased one.
    func testErasureLeavesOtherCandidatesDeliveries() throws {
        let (store, _) = try makeStore()
        let bodies = [#"{"email": "ADA@example.com", "app": "a1"}"#, #"{"email": "nada@example.com"}"#, #"{"email": "ada@example.com", "cc": "x"}"#]
        _ = try store.appendDeliveries(bodies.enumerated().map { i, body in
            Delivery(source: "greenhouse", eventId: "d\(i)", receivedAt: now, headers: [:], body: Array(body.utf8))
        })
        // d2 names ada@ but its mapping said it is about bob's application a2.
        var outcomes = DeliveryOutcomes()
        outcomes.marks = [DeliveryMark(sequence: 3, status: "accepted", detail: "x", application: "a2")]
        try store.commitMapping(outcomes, at: now)
        let counts = try store.erase(ErasureScope(candidate: "c1", applications: ["a1"], emails: ["ada@example.com"]), at: now)
        XCTAssertEqual(counts.deliveries, 1, "only the unattributed body with the whole address, in any case")
        let left = try store.deliveries(limit: 10).map { String(decoding: $0.body, as: UTF8.self) }
        XCTAssertEqual(left.filter { $0 == "{}" }.count, 1, "\(left)")
        XCTAssertTrue(left.contains(bodies[1]) && left.contains(bodies[2]), "\(left)")
    }

    /// A start refused for missing data never wrote a journey, but its `on_invalid` actions,
    /// tasks and message counts carry the id it would have had: erasing the candidate finds them
    /// through the review item, and cancels what was not sent.
    func testErasureReachesTheActionsOfARefusedStart() throws {
        let (store, _) = try makeStore()
        _ = try store.appendInbox([CanonicalEvent(id: "e9", type: "offer.extended", occurredAt: now,
                                                  data: ["candidate": ["id": "c9", "first_name": "Zelda"], "application": ["id": "a9"]])], receivedAt: now)
        var refused = StepResult()
        refused.timeline = [TimelineEntry(at: now, flow: "offer", journey: "jrn_refused", key: "a9", kind: "review",
                                          fields: ["event": "offer.extended", "event_id": "e9", "reason": "missing candidate.email", "application": "a9"])]
        refused.actions = [PlannedAction(connector: "slack", arguments: ["text": "Fix the offer data for Zelda"], idempotencyKey: "jrn_refused:1:policy.on_invalid[0]",
                                         path: "policy.on_invalid[0]", audience: .team, template: nil, retryAttempts: nil, retryBackoff: nil,
                                         entry: 0, order: 0, candidate: nil)]
        try store.commit([StepCommit(result: refused)], processedInbox: [], ignored: [])
        XCTAssertTrue(try store.saveTask(RecruiterTask(journey: "", title: "Call Zelda", assignee: "sam@acme.test", due: nil, notes: "Zelda's data",
                                                       createdAt: now), idempotencyKey: "jrn_refused:1:policy.on_invalid[1]"))
        let scope = try store.erasureScope(candidate: "c9")
        XCTAssertTrue(scope.journeys.contains("jrn_refused"), "\(scope)")
        let counts = try store.erase(scope, at: now)
        XCTAssertEqual(counts.actions, 1)
        XCTAssertEqual(counts.tasks, 1)
        let row = try XCTUnwrap(try store.outboxRows(journey: nil).first)
        XCTAssertEqual(row.item.action.arguments, [:])
        XCTAssertEqual(row.status, "cancelled")
        XCTAssertEqual(try store.tasks(openOnly: false).map(\.title), ["erased"])
        XCTAssertEqual(try store.tasks(openOnly: false).first?.notes, nil)
        XCTAssertTrue(try store.tasks(openOnly: true).isEmpty, "a task about an erased candidate is closed")
    }

    /// Erasure takes the candidate's dead letters out of `dead-letters`: a dead action whose
    /// arguments are gone cannot be replayed.
    func testErasureResolvesDeadActions() throws {
        let (store, _) = try makeStore()
        let ada = personJourney("j1", candidate: "c1", application: "a1", email: "ada@example.com")
        try store.commit([personStep(ada, at: now)], processedInbox: [], ignored: [])
        let claimed = try store.claimActions(now: now.addingTimeInterval(1), limit: 10)
        try store.recordAttempts(claimed.map { ($0, AttemptOutcome.dead(error: "550 no mailbox ada@example.com"), 0.01) }, at: now)
        XCTAssertEqual(try store.deadLetters(limit: 10).filter { $0.kind == .action }.count, 1)
        _ = try store.erase(try store.erasureScope(candidate: "c1"), at: now)
        XCTAssertTrue(try store.deadLetters(limit: 10).filter { $0.kind == .action }.isEmpty)
        XCTAssertEqual(try store.lastError(claimed[0].sequence), "erased")
    }

    /// Retention counts from a journey's end, not from its last state entry; it leaves an
    /// application whose data is recent alone (here: an event about it since the cutoff), and
    /// removes the profile of an old application no journey ever took.
    func testRetentionCountsFromTheEndAndSparesRecentApplications() throws {
        let (store, _) = try makeStore()
        let old = now.addingTimeInterval(-400 * 86400), cutoff = now.addingTimeInterval(-365 * 86400)
        // Entered its state 400 days ago, ended yesterday (an exit does not enter a state).
        var lingering = personJourney("j1", candidate: "c1", application: "a1", email: "ada@example.com")
        lingering.stateEnteredAt = old
        try store.commit([personStep(lingering, at: now.addingTimeInterval(-86400))], processedInbox: [], ignored: [])
        // Ended long ago, but its application had news since.
        var ended = personJourney("j2", candidate: "c2", application: "a2", email: "bob@example.com")
        ended.stateEnteredAt = old
        try store.commit([personStep(ended, at: old)], processedInbox: [], ignored: [])
        _ = try store.appendInbox([CanonicalEvent(id: "recent", type: "candidate.updated", occurredAt: now, data: ["application": ["id": "a2"]])], receivedAt: now)
        try store.saveApplicationProfile("a2", ["candidate": ["id": "c2"]], at: old)
        // An application no journey took, last heard of long ago.
        try store.saveApplicationProfile("a3", ["candidate": ["id": "c3", "email": "cy@example.com"]], at: old)
        let scope = try store.expiredScope(endedBefore: cutoff, limit: 10)
        XCTAssertEqual(scope.journeys, ["j2"], "j1 ended yesterday")
        XCTAssertEqual(scope.applications, ["a3"], "a2 had an event since the cutoff")
        _ = try store.erase(scope, at: now)
        XCTAssertNil(try store.applicationProfile("a3"))
        XCTAssertNotNil(try store.applicationProfile("a2"))
        XCTAssertEqual(try store.journey(id: "j2")?.context, [:])
        XCTAssertEqual(try store.journey(id: "j1")?.context["candidate"]?["id"], "c1")
    }

    /// `retention.events` keeps an event a waiting review item needs to be replayed.
    func testPurgeKeepsTheEventsOfWaitingReviews() throws {
        let (store, _) = try makeStore()
        let old = now.addingTimeInterval(-100 * 86400)
        _ = try store.appendInbox([CanonicalEvent(id: "refused", type: "offer.extended", occurredAt: old, data: [:]),
                                   CanonicalEvent(id: "done", type: "offer.viewed", occurredAt: old, data: [:])], receivedAt: old)
        var review = StepResult()
        review.timeline = [TimelineEntry(at: old, flow: "offer", journey: "jrn_x", key: "a1", kind: "review",
                                         fields: ["event": "offer.extended", "event_id": "refused", "reason": "missing candidate.email"])]
        try store.commit([StepCommit(result: review)], processedInbox: try store.pendingInbox(limit: 10).map(\.sequence), ignored: [])
        XCTAssertEqual(try store.purgeEvents(before: now.addingTimeInterval(-90 * 86400)), 1)
        XCTAssertNotNil(try store.inboxEvent(id: "refused"))
        XCTAssertNil(try store.inboxEvent(id: "done"))
    }

    /// A candidate known only from a delivery no mapping has named (in review before its
    /// application was known) is found by their id in its body, and that body goes.
    func testErasureFindsACandidateOnlyARawDeliveryNames() throws {
        let (store, _) = try makeStore()
        let body = #"{"type": "candidate.applied", "data": {"candidate": {"id": "c5", "first_name": "Eve", "email": "eve@example.com"}}}"#
        let other = #"{"type": "candidate.applied", "data": {"candidate": {"id": "c55", "email": "c5@example.com"}, "note": "c5"}}"#
        _ = try store.appendDeliveries([Delivery(source: "events", eventId: "x5", receivedAt: now, headers: [:], body: Array(body.utf8)),
                                        Delivery(source: "events", eventId: "x55", receivedAt: now, headers: [:], body: Array(other.utf8))])
        let scope = try store.erasureScope(candidate: "c5")
        XCTAssertEqual(scope.deliveries.count, 1, "the id at a candidate's key, not the text c5 anywhere")
        XCTAssertEqual(scope.emails, ["eve@example.com"])
        XCTAssertEqual(try store.erase(scope, at: now).deliveries, 1)
        let bodies = try store.deliveries(limit: 10).map { String(decoding: $0.body, as: UTF8.self) }
        XCTAssertTrue(bodies.contains("{}") && bodies.contains(other), "\(bodies)")
        XCTAssertEqual(try store.deliveries(limit: 10).first { $0.eventId == "x5" }?.status, "erased", "never mapped now")
    }

    /// A mapping batch that read a profile an erasure then deleted does not write it back, nor
    /// one whose delivery the erasure took out of the batch's hands.
    func testAMappingBatchDoesNotWriteAnErasedProfileBack() throws {
        let (store, _) = try makeStore()
        try store.saveApplicationProfile("a1", ["candidate": ["id": "c1", "email": "ada@example.com"]], at: now)
        _ = try store.appendDeliveries([Delivery(source: "events", eventId: "x1", receivedAt: now, headers: [:], body: Array("{}".utf8)),
                                        Delivery(source: "events", eventId: "x2", receivedAt: now, headers: [:], body: Array("{}".utf8))])
        let pending = try store.pendingDeliveries(limit: 10)
        // The batch read a1's profile and mapped x1 for a2; meanwhile a1 is erased and x2 with it.
        var outcomes = DeliveryOutcomes()
        outcomes.readProfiles = ["a1"]
        outcomes.profiles = ["a1": ["candidate": ["id": "c1", "email": "ada@example.com", "phone": "+44"]], "a2": ["candidate": ["id": "c2"]]]
        outcomes.events = [(pending[1].sequence, CanonicalEvent(id: "x2", type: "candidate.applied", occurredAt: now, data: ["application": ["id": "a3"]]))]
        outcomes.profiles["a3"] = ["candidate": ["id": "c3"]]
        outcomes.marks = [DeliveryMark(sequence: pending[0].sequence, status: "accepted", detail: "x")]
        _ = try store.erase(ErasureScope(candidate: "c1", applications: ["a1"], deliveries: [pending[1].sequence]), at: now)
        try store.commitMapping(outcomes, at: now)
        XCTAssertNil(try store.applicationProfile("a1"), "erased meanwhile: not written back")
        XCTAssertNil(try store.applicationProfile("a3"), "its delivery was erased before the batch was written")
        XCTAssertNotNil(try store.applicationProfile("a2"))
    }
}

final class EmailAddressTests: XCTestCase {
    /// An address stands whole: not inside a longer one, whatever characters its local part allows.
    func testAnAddressIsMatchedWhole() {
        for text in ["to: brien@example.com", "<brien@example.com>", "mail brien@example.com.", "\"brien@example.com\""] {
            XCTAssertTrue(EmailAddress.stands(in: text, "brien@example.com"), text)
        }
        for text in ["o'brien@example.com", "nbrien@example.com", "brien@example.com.au", "x+brien@example.com", "a/brien@example.com"] {
            XCTAssertFalse(EmailAddress.stands(in: text, "brien@example.com"), text)
        }
    }
}
