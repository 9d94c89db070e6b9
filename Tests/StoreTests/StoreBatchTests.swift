import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage
@testable import HirewireStore

/// The batch reads and the packed audit rows the engine relies on for speed, against a real
/// SQLite file: each must answer exactly what the one-by-one calls answer.
final class StoreBatchTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_772_000_000)

    func makeStore() throws -> (SQLiteStore, String) {
        let dir = NSTemporaryDirectory() + "hirewire-batch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/hirewire.db"
        return (try SQLiteStore(path: path), path)
    }

    func journey(_ id: String, key: String, active: Bool = true, candidate: String = "c1") -> Journey {
        Journey(id: id, flow: "offer", version: "v1", key: key, status: active ? .active : .ended(outcome: "hired"), state: "extended",
                stateEnteredAt: now, entry: 1, startedAt: now, context: ["candidate": ["id": .string(candidate)]],
                mergedAt: [:], vars: [:], seq: 1, insteadAt: nil)
    }

    func entry(_ j: Journey, _ kind: String, _ fields: TimelineFields, at offset: Double = 0) -> TimelineEntry {
        TimelineEntry(at: now.addingTimeInterval(offset), flow: j.flow, journey: j.id, key: j.key, kind: kind, fields: fields)
    }

    func testBatchLookupsAnswerWhatSingleLookupsAnswer() throws {
        let (store, _) = try makeStore()
        var steps: [StepCommit] = []
        for (id, key, active) in [("j1", "a1", true), ("j2", "a2", false), ("j3", "a3", true)] {
            var result = StepResult(journey: journey(id, key: key, active: active, candidate: "c-" + key))
            result.candidateMessages = [CandidateMessage(at: now, key: id + ":1:x"), CandidateMessage(at: now.addingTimeInterval(5), key: id + ":1:y")]
            steps.append(StepCommit(result: result))
        }
        try store.commit(steps, processedInbox: [], ignored: [])
        let keys = ["a1", "a2", "a3", "missing"]
        let index = try store.journeyIndex(flow: "offer", keys: keys)
        for key in keys {
            XCTAssertEqual(index.active[key]?.id, try store.activeJourney(flow: "offer", key: key)?.id, key)
            XCTAssertEqual(index.had.contains(key), try store.hadJourney(flow: "offer", key: key), key)
        }
        XCTAssertEqual(Set(index.active.keys), ["a1", "a3"])
        XCTAssertEqual(index.had, ["a1", "a2", "a3"])
        XCTAssertEqual(index.active["a1"]?.seq, 1)
        XCTAssertEqual(try store.journeyIndex(flow: "other", keys: keys).had, [])
        XCTAssertEqual(Set(try store.journeys(ids: ["j1", "j2", "nope"]).keys), ["j1", "j2"])
        let recent = try store.recentMessages(candidates: ["c-a1", "c-a2", "nobody"], since: now.addingTimeInterval(-1))
        XCTAssertEqual(recent["c-a1"], try store.recentMessages(candidate: "c-a1", since: now.addingTimeInterval(-1)))
        XCTAssertEqual(recent["c-a1"]?.count, 2)
        XCTAssertEqual(recent["nobody"], [])
    }

    /// Counted messages leave the count when a step withdraws them (a deferred message dropped)
    /// or when the dispatcher dead-letters them; others stay.
    func testWithdrawnAndDeadLetteredMessagesStopCounting() throws {
        let (store, _) = try makeStore()
        let email = PlannedAction(connector: "email", arguments: ["to": "ada@example.com"], idempotencyKey: "j1:1:do[0]", path: "do[0]",
                                  audience: .candidate, template: nil, retryAttempts: nil, retryBackoff: nil, entry: 1, order: 0, candidate: "c1")
        var first = StepResult(journey: journey("j1", key: "a1"))
        first.actions = [email]
        first.candidateMessages = [CandidateMessage(at: now, key: "j1:1:do[0]"), CandidateMessage(at: now, key: "j1:1:deferred"),
                                   CandidateMessage(at: now, key: "j1:1:kept")]
        try store.commit([StepCommit(result: first)], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 3)
        var moved = journey("j1", key: "a1")
        moved.seq = 2
        var second = StepResult(journey: moved)
        second.withdrawnMessages = [CandidateMessage(at: now, key: "j1:1:deferred")]
        try store.commit([StepCommit(result: second)], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 2)
        let claimed = try store.claimActions(now: Date().addingTimeInterval(60), limit: 10)
        XCTAssertEqual(claimed.map(\.action.idempotencyKey), ["j1:1:do[0]"])
        try store.recordAttempts(claimed.map { ($0, AttemptOutcome.dead(error: "mailbox full"), 0.01) }, at: now)
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 1, "only the kept one counts")
        // Replayed, the dead email goes out after all: it counts again, from the replay.
        let dead = try XCTUnwrap(try store.deadLetters(limit: 10).first { $0.kind == .action })
        let replayedAt = now.addingTimeInterval(3600)
        XCTAssertEqual(try store.lastError(dead.number), "mailbox full")
        XCTAssertTrue(try store.requeueDeadLetter(.action, dead.number, at: replayedAt))
        XCTAssertNil(try store.lastError(dead.number), "a replayed action's error chain starts again")
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast), [now, replayedAt])
        XCTAssertFalse(try store.requeueDeadLetter(.action, dead.number, at: replayedAt), "only a dead action is replayed")
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 2, "and counted once")
    }

    /// Messages counted before migration 10 carry no action key. Dead-lettered or withdrawn,
    /// such a message stops counting too (found by its journey and when it was queued), so a
    /// replay counts it once, not twice.
    func testMessagesCountedBeforeActionKeysStopCountingToo() throws {
        let (store, path) = try makeStore()
        let email = PlannedAction(connector: "email", arguments: ["to": "ada@example.com"], idempotencyKey: "j1:1:do[0]", path: "do[0]",
                                  audience: .candidate, template: nil, retryAttempts: nil, retryBackoff: nil, entry: 1, order: 0, candidate: "c1")
        var first = StepResult(journey: journey("j1", key: "a1"))
        first.actions = [email]
        first.candidateMessages = [CandidateMessage(at: now, key: "j1:1:do[0]")]
        first.timeline = [TimelineEntry(at: now, flow: "offer", journey: "j1", key: "a1", kind: "action", fields: ["n": 1])]
        try store.commit([StepCommit(result: first)], processedInbox: [], ignored: [])
        // A deferred message counted a minute later, in another step.
        var held = journey("j1", key: "a1")
        held.seq = 2
        var second = StepResult(journey: held)
        second.candidateMessages = [CandidateMessage(at: now.addingTimeInterval(60), key: "j1:2:deferred")]
        try store.commit([StepCommit(result: second)], processedInbox: [], ignored: [])
        // As an older build wrote them: no action keys.
        let old = try SQLiteDatabase(path: path)
        try old.execute("UPDATE messages SET action = NULL")
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast).count, 2)

        // The deferred one is withdrawn: it stops counting, and the email still counts.
        var third = StepResult(journey: { var j = held; j.seq = 3; return j }())
        third.withdrawnMessages = [CandidateMessage(at: now.addingTimeInterval(60), key: "j1:2:deferred")]
        try store.commit([StepCommit(result: third)], processedInbox: [], ignored: [])
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast), [now])

        // The email dies: it stops counting; replayed, it counts once, from the replay.
        let claimed = try store.claimActions(now: now.addingTimeInterval(120), limit: 10)
        XCTAssertEqual(claimed.map(\.action.idempotencyKey), ["j1:1:do[0]"])
        try store.recordAttempts(claimed.map { ($0, AttemptOutcome.dead(error: "mailbox full"), 0.01) }, at: now.addingTimeInterval(120))
        XCTAssertTrue(try store.recentMessages(candidate: "c1", since: .distantPast).isEmpty)
        let dead = try XCTUnwrap(try store.deadLetter(.action, claimed[0].sequence))
        let replayedAt = now.addingTimeInterval(3600)
        XCTAssertTrue(try store.requeueDeadLetter(.action, dead.number, at: replayedAt))
        XCTAssertEqual(try store.recentMessages(candidate: "c1", since: .distantPast), [replayedAt])
    }

    /// A snapshot that fails to open leaves no transaction behind: the next one opens.
    func testAFailedSnapshotOpenLeavesNoTransactionBehind() throws {
        let (store, path) = try makeStore()
        let other = try SQLiteDatabase(path: path)
        try other.execute("ALTER TABLE journeys RENAME TO journeys_away")
        XCTAssertThrowsError(try store.openSnapshot())
        try other.execute("ALTER TABLE journeys_away RENAME TO journeys")
        let snapshot = try XCTUnwrap(try store.openSnapshot())
        XCTAssertTrue(try snapshot.journeyIndex(flow: "offer", keys: ["a1"]).active.isEmpty)
        snapshot.close()
    }

    /// A snapshot answers the batch reads as the store was when it opened, while commits land
    /// on the main connection; the next snapshot sees them.
    func testSnapshotKeepsItsViewWhileACommitLands() throws {
        let (store, _) = try makeStore()
        var first = StepResult(journey: journey("j1", key: "a1"))
        first.candidateMessages = [CandidateMessage(at: now, key: "j1:1:x")]
        try store.commit([StepCommit(result: first)], processedInbox: [], ignored: [])
        let snapshot = try XCTUnwrap(try store.openSnapshot())
        var moved = journey("j1", key: "a1")
        moved.seq = 2
        var stepped = StepResult(journey: moved)
        stepped.candidateMessages = [CandidateMessage(at: now.addingTimeInterval(1), key: "j1:2:x")]
        let second = stepped
        let started = journey("j2", key: "a2")
        // The commit runs on another thread while the snapshot is open, as in the pipeline.
        let committed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? store.commit([StepCommit(result: second), StepCommit(result: StepResult(journey: started))], processedInbox: [], ignored: [])
            committed.signal()
        }
        committed.wait()
        XCTAssertEqual(try store.journeyIndex(flow: "offer", keys: ["a1", "a2"]).active["a2"]?.id, "j2", "the store has the commit")
        let seen = try snapshot.journeyIndex(flow: "offer", keys: ["a1", "a2"])
        XCTAssertEqual(seen.active["a1"]?.seq, 1)
        XCTAssertNil(seen.active["a2"])
        XCTAssertEqual(try snapshot.journeys(ids: ["j1", "j2"]).keys.sorted(), ["j1"])
        XCTAssertEqual(try snapshot.recentMessages(candidates: ["c1"], since: .distantPast)["c1"]?.count, 1)
        snapshot.close()
        let later = try XCTUnwrap(try store.openSnapshot())
        defer { later.close() }
        XCTAssertEqual(try later.journeyIndex(flow: "offer", keys: ["a1", "a2"]).active["a1"]?.seq, 2)
        XCTAssertEqual(try later.recentMessages(candidates: ["c1"], since: .distantPast)["c1"]?.count, 2)
    }

    func testPackedTimelineKeepsOrderKindsAndFieldsAndDeadLettersStillFindTheirRow() throws {
        let (store, path) = try makeStore()
        let j = journey("j1", key: "a1")
        var result = StepResult(journey: j)
        result.actions = [PlannedAction(connector: "email", arguments: ["to": "ada@example.com", "html": "<p>Hi \"Ada\"</p>"], idempotencyKey: "j1:1:do[0]",
                                        path: "do[0]", audience: .candidate, template: nil, retryAttempts: nil, retryBackoff: nil, entry: 1, order: 0,
                                        candidate: "c1")]
        result.timeline = [
            entry(j, "start", ["event": "offer.extended"]),
            entry(j, "timer_set", ["due": "2026-03-04T09:00:00Z", "timer": "states.extended.after[0]"], at: 1),
            entry(j, "action_failed", ["path": "do[1]", "reason": "missing value for '{{name}}'", "dead_letter": true], at: 2),
            entry(j, "action", ["connector": "email", "args": result.actions[0].arguments, "idempotency_key": "j1:1:do[0]"], at: 3),
            entry(j, "transition", ["to": "extended", "event": "offer.extended"], at: 4),
        ]
        try store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
        // Read back through a second connection: what is on disk, not what is cached.
        let reopened = try SQLiteStore(path: path)
        let timeline = try reopened.timeline(journey: "j1")
        XCTAssertEqual(timeline.map(\.kind), ["start", "timer_set", "action_failed", "action", "transition"])
        XCTAssertEqual(timeline[1].fields["due"], "2026-03-04T09:00:00Z")
        XCTAssertEqual(timeline[4].at, now.addingTimeInterval(4))
        XCTAssertEqual(timeline[3].fields["idempotency_key"], "j1:1:do[0]")
        XCTAssertNil(timeline[3].fields["args"], "the rendered arguments live in the outbox row, not twice")
        XCTAssertEqual(try reopened.outbox(journey: "j1").first?.arguments["html"], "<p>Hi \"Ada\"</p>")
        // Five entries, three rows: the dead letter keeps a row of its own.
        var rows = 0
        try reopened.db.query("SELECT COUNT(*) FROM audit WHERE journey = 'j1'") { rows = Int($0.integer(0)) }
        XCTAssertEqual(rows, 3)
        XCTAssertEqual(try reopened.deadLetters(limit: 10).filter { $0.kind == .failed }.count, 1)
        XCTAssertEqual(try reopened.auditEntries(kind: "timer_set", limit: 10).map(\.journey), ["j1"])
    }

    func testInboxEventsReadBackAlikeFromThisProcessAndFromDisk() throws {
        let (store, path) = try makeStore()
        let events = (0..<5).map { i in
            CanonicalEvent(id: "e\(i)", type: "offer.extended", occurredAt: now.addingTimeInterval(Double(i) + (i == 4 ? 0.0004 : 0)), source: "greenhouse",
                           data: ["candidate": ["id": .string("c\(i)"), "name": "Zoë \"Z\"\n"], "offer": ["score": .number(72.5 + Double(i))]])
        }
        _ = try store.appendInbox(events, receivedAt: now)
        let here = try store.pendingInbox(limit: 10)
        let fromDisk = try SQLiteStore(path: path).pendingInbox(limit: 10)
        // What this process reads back is what a restarted one would: the stored form.
        XCTAssertEqual(here.map(\.event), fromDisk.map(\.event))
        XCTAssertEqual(Array(here.map(\.event).prefix(4)), Array(events.prefix(4)))
        XCTAssertEqual(here[4].event.occurredAt, Timestamp.parse(Timestamp.format(events[4].occurredAt)), "stored with millisecond precision")
        XCTAssertEqual(here.map(\.sequence), fromDisk.map(\.sequence))
        try store.commit([], processedInbox: [here[0].sequence], ignored: [])
        XCTAssertEqual(try store.pendingInbox(limit: 10).map(\.event.id), ["e1", "e2", "e3", "e4"])
    }

    /// A journey keeps its context's JSON once written; a copy whose context changes writes the
    /// new context, and the original still writes its own.
    func testTheContextJSONKeptFollowsTheContext() {
        let original = journey("j1", key: "a1")
        XCTAssertEqual(original.encodedJSON, original.encoded.jsonString())
        var changed = original
        changed.context["offer"] = ["id": "o2"]
        XCTAssertTrue(changed.encodedJSON.contains("\"o2\""), changed.encodedJSON)
        XCTAssertEqual(changed.encodedJSON, changed.encoded.jsonString())
        // Changed in place, as a step's merge does it.
        var merged = original
        if let at = merged.context.index(forKey: "candidate") { merged.context.values[at].merge(["email": "ada@new.example"]) }
        XCTAssertTrue(merged.encodedJSON.contains("ada@new.example"), merged.encodedJSON)
        XCTAssertEqual(merged.encodedJSON, merged.encoded.jsonString())
        var emptied = changed
        emptied.context = [:]
        XCTAssertEqual(emptied.encodedJSON, emptied.encoded.jsonString())
        XCTAssertEqual(original.encodedJSON, original.encoded.jsonString())
        XCTAssertFalse(original.encodedJSON.contains("\"o2\""))
        XCTAssertEqual(changed, Journey(encoded: Value.parseStoredJSON(changed.encodedJSON) ?? .null), "the kept JSON is not part of the value")
    }

    /// The member-by-member writers produce exactly the JSON of the records' `encoded` values.
    func testDirectJSONIsTheSameTextAsTheEncodedValues() {
        var ended = journey("j9", key: "a9", active: false)
        ended.insteadAt = now.addingTimeInterval(0.5)
        ended.vars = ["when": .timestamp(now), "wait": .duration(3600), "n": 3]
        ended.mergedAt = ["candidate": now, "offer": now.addingTimeInterval(-60)]
        ended.doneTimers = ["states.extended.after[0]"]
        for j in [journey("j1", key: "a1"), ended] {
            XCTAssertEqual(j.encodedJSON, j.encoded.jsonString())
            XCTAssertEqual(Value.parseStoredJSON(j.encodedJSON).flatMap(Journey.init(encoded:))?.doneTimers, j.doneTimers)
        }
        let full = PlannedAction(connector: "email", arguments: ["to": "ada@example.com", "html": "<p>\"Hi\"</p>\n"], idempotencyKey: "j1:2:do[0]",
                                 path: "do[0]", audience: .candidate, template: "offer-next-steps", retryAttempts: 3, retryBackoff: 1.5,
                                 entry: 2, order: 1, candidate: "c1")
        let bare = PlannedAction(connector: "slack", arguments: ["text": "x"], idempotencyKey: "k", path: "p", audience: .team,
                                 template: nil, retryAttempts: nil, retryBackoff: nil, entry: 0, order: 0, candidate: nil)
        for a in [full, bare] { XCTAssertEqual(a.encodedJSON, a.encoded.jsonString()) }
        let kinds: [TimerKind] = [.flow(path: "states.x.after[0]"), .timeout, .deferred(action: full, scope: .journey)]
        for (i, kind) in kinds.enumerated() {
            let t = TimerRecord(id: "t\(i)", journey: "j1", due: now.addingTimeInterval(90), entry: 1, stateScoped: i == 0, kind: kind,
                                windowEnd: i == 0 ? now.addingTimeInterval(7200) : nil, armedAt: now)
            XCTAssertEqual(t.encodedJSON, t.encoded.jsonString())
        }
        let j = journey("j1", key: "a1")
        // Unsorted fields, a repeated key, and (written without sorting) fields already in key order.
        let entries = [entry(j, "action", ["connector": "email", "args": ["to": "x"], "path": "do[0]"]),
                       entry(j, "timer_set", ["due": "2026-03-04T09:00:00Z", "timer": "after[0]", "due": "2026-03-05T09:00:00Z"]),
                       entry(j, "action", ["args": ["to": "y"], "connector": "slack", "path": "do[1]"]),
                       entry(j, "transition", ["event": "offer.viewed", "to": "viewed"]),
                       entry(j, "review", ["reason": "missing candidate.email"])]
        let rows = EncodedStep.auditRows(entries)
        XCTAssertEqual(rows.map(\.kind), ["entries", "review"])
        // The reference: the fields as an object (the last repeated key wins), an action's args left out.
        func stored(_ e: TimelineEntry) -> [String: Value] {
            var fields = e.fields.dictionary
            if e.kind == "action" { fields["args"] = nil }
            return fields
        }
        let packed = Value.array(entries.prefix(4).map { .object(["at": .timestamp($0.at), "kind": .string($0.kind), "fields": .object(stored($0))]) })
        XCTAssertEqual(rows[0].data, packed.jsonString())
        XCTAssertEqual(rows[1].data, Value.object(stored(entries[4])).jsonString())
    }

    /// The quick test for whole seconds agrees with writing the time and reading it back.
    func testExactTimesAreThoseThatReadBackUnchanged() {
        let times: [Double] = [0, 1, -1, 1_772_000_000, 1_772_000_000.5, 1_772_000_000.123, 1_772_000_000.0004,
                               -62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800, 4e11]
        for t in times {
            let date = Date(timeIntervalSince1970: t)
            XCTAssertEqual(StoredForm.exact(date), StoredForm.normalized(date) == date, "\(t)")
        }
        // A fraction too small to survive `timeIntervalSince1970` is still a fraction.
        let almostWhole = Date(timeIntervalSinceReferenceDate: 786_000_000 + 1.0 / 8_388_608)
        XCTAssertEqual(StoredForm.exact(almostWhole), StoredForm.normalized(almostWhole) == almostWhole)
        XCTAssertFalse(StoredForm.exact(almostWhole))
        var known: Set<Date> = []
        var j = journey("j1", key: "a1")
        XCTAssertTrue(StoredForm.readsBackAlike(j, knownExact: &known))
        j.stateEnteredAt = now.addingTimeInterval(0.0004)
        XCTAssertFalse(StoredForm.readsBackAlike(j, knownExact: &known), "a time finer than a millisecond does not read back alike")
    }
}
