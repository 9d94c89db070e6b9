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
        XCTAssertEqual(try store.inboxEvent(id: "e1")?.data, .object([:]))
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
}
