import Foundation
import XCTest
@testable import HirewireCLI

final class FlowTestCommandTests: XCTestCase {
    func testBundledFlowTestsPass() async {
        let r = await hirewire(["test"])
        XCTAssertEqual(r.code, 0, r.out)
        XCTAssertTrue(r.out.hasSuffix(" passed, 0 failed\n"), r.out)
        XCTAssertFalse(r.out.contains("✗"))
    }

    /// A path with no flow tests is a usage error, not "0 passed, 0 failed" and success.
    func testAPathWithoutTestsIsAUsageError() async {
        for path in ["flows/tests/nope.test.yaml", "flows/offer-nurture.yaml"] {
            let r = await hirewire(["test", path])
            XCTAssertEqual(r.code, 2, r.out)
            XCTAssertTrue(r.err.contains("no flow tests at \(path)"), r.err)
        }
        let one = await hirewire(["test", "flows/tests/offer-withdrawn.test.yaml"])
        XCTAssertEqual(one.code, 0, one.err)
        XCTAssertTrue(one.out.hasSuffix("1 passed, 0 failed\n"), one.out)
    }

    /// A test file that does not load counts as a failed test in the summary (and in JSON),
    /// with its diagnostic; named alone it is that failure, not "no flow tests".
    func testATestFileThatDoesNotLoadIsAFailedTest() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try "test: broken\nflow: offer-nurture\nclock: 2026-03-06T16:00:00Z\nevents:\n  - {at: +0m, type: offer.extended\n"
            .write(toFile: project + "/flows/tests/broken.test.yaml", atomically: true, encoding: .utf8)
        let all = await hirewire(["test"], in: project)
        XCTAssertEqual(all.code, 1)
        XCTAssertTrue(all.out.contains("✗ flows/tests/broken.test.yaml: does not load"), all.out)
        XCTAssertTrue(all.out.contains("broken.test.yaml:6:1"), all.out)
        XCTAssertTrue(all.out.hasSuffix(" passed, 1 failed\n"), all.out)
        let one = await hirewire(["test", "flows/tests/broken.test.yaml"], in: project)
        XCTAssertEqual(one.code, 1, one.err)
        XCTAssertTrue(one.out.hasSuffix("0 passed, 1 failed\n"), one.out)
        let json = await hirewire(["test", "--format", "json"], in: project)
        XCTAssertTrue(json.out.contains("\"failed\" : 1") || json.out.contains("\"failed\": 1"), json.out)
    }

    /// Misspelled names in a test's expectations and events are errors at their line and column;
    /// before, `of: [emali]` made `none_after` hold for any journey and the test passed.
    func testMisspelledNamesInATestAreErrorsWithLineAndColumn() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let file = "flows/tests/offer-withdrawn.test.yaml"
        let clean = await hirewire(["test", file], in: project)
        XCTAssertEqual(clean.code, 0, clean.out)
        let cases: [(old: String, new: String, wanted: String)] = [
            ("of: [email, sms, slack, task]", "of: [emali, sms, slack, task]", "\(file):10:28: error: unknown connector 'emali' (did you mean 'email'?)"),
            ("{state: extended, outcome: withdrawn}", "{state: extnded, outcome: withdrawn}", "\(file):9:13: error: flow 'offer-nurture' has no state 'extnded'"),
            ("{state: extended, outcome: withdrawn}", "{state: extended, outcom: withdrawn}", "\(file):9:23: error: unknown key 'outcom'"),
            ("{state: extended, outcome: withdrawn}", "{state: extended, outcome: withdrew}", "\(file):9:32: error: flow 'offer-nurture' never ends with outcome 'withdrew'"),
            ("{none_after: +0m, of", "{none_after: 0m, of", "\(file):10:18: error: '0m' is not a time"),
            ("- {at: +1d, type", "- {at: 1d, type", "\(file):7:10: error: '1d' is not a time"),
            ("- {at: +1d, type", "- {at: -1h, type", "\(file):7:10: error: '-1h' is before the test's clock"),
            ("- {at: +0m, type", "- {at: +2d, type", "\(file):7:10: error: events go in time order: '+1d' comes before '+2d'"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{count: 0}", "\(file):10:5: error: a count expectation needs 'of'"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{count: 0, of: sms, at: +1h}", "\(file):10:25: error: unknown key 'at'"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{count: 0, of: [emit]}", "\(file):10:21: error: emit is not dispatched"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{kind: ended}", "\(file):10:12: error: unknown timeline kind 'ended' (did you mean 'end'?)"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{email: {template: offer-next-step}}", "\(file):10:24: error: unknown template 'offer-next-step'"),
            ("{none_after: +0m, of: [email, sms, slack, task]}", "{emial: {to: ada@example.com}}", "\(file):10:6: error: unknown connector 'emial'"),
        ]
        let path = project + "/" + file
        let original = try String(contentsOfFile: path, encoding: .utf8)
        // A timeline entry's fields may be called outcome, state or count: `kind` decides the shape.
        try edit(path, replacing: "{none_after: +0m, of: [email, sms, slack, task]}", with: "{kind: end, outcome: withdrawn, state: extended}")
        let entry = await hirewire(["test", file], in: project)
        XCTAssertEqual(entry.code, 0, entry.out)
        for c in cases {
            try original.write(toFile: path, atomically: true, encoding: .utf8)
            try edit(path, replacing: c.old, with: c.new)
            let r = await hirewire(["test", file], in: project)
            XCTAssertEqual(r.code, 1, c.new)
            XCTAssertTrue(r.out.contains(c.wanted), "\(c.new): \(r.out)")
            XCTAssertTrue(r.out.hasSuffix("0 passed, 1 failed\n"), r.out)
            let validate = await hirewire(["validate"], in: project)
            XCTAssertEqual(validate.code, 1, c.new)
        }
    }

    /// A run of selected tests is judged by them (and by the project they test), not by a
    /// mistake in a test left out of the run: it printed "1 passed, 0 failed" and exited 1.
    func testASelectedRunIgnoresMistakesInOtherTests() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/tests/offer-withdrawn.test.yaml", replacing: "of: [email,", with: "of: [emali,")
        let other = await hirewire(["test", "flows/tests/offer-declined.test.yaml"], in: project)
        XCTAssertEqual(other.code, 0, other.out + other.err)
        XCTAssertEqual(other.err, "")
        XCTAssertTrue(other.out.hasSuffix("1 passed, 0 failed\n"), other.out)
        let all = await hirewire(["test"], in: project)
        XCTAssertEqual(all.code, 1)
        // A project error fails every run, and the summary says so.
        try edit(project + "/flows/offer-nurture.yaml", replacing: "goto: follow_up", with: "goto: folow_up")
        let broken = await hirewire(["test", "flows/tests/application-once.test.yaml"], in: project)
        XCTAssertEqual(broken.code, 1)
        XCTAssertTrue(broken.out.hasSuffix("1 passed, 0 failed; the project has 1 error (above)\n"), broken.out)
    }

    /// Keys beside `$ref` merge over the referenced event (they replaced it, so an exec-tier
    /// variant lost the candidate and passed for the wrong reason); a referenced file is strict
    /// JSON with its mistakes at their place in it; data must be an object.
    func testRefsMergeSiblingsAndReadStrictJSON() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let file = project + "/flows/tests/exec-variant.test.yaml"
        func write(_ data: String) throws {
            try """
                test: an exec variant of the shared offer starts no journey
                flow: offer-nurture
                clock: 2026-03-02T14:00:00Z
                events:
                  - {at: +0m, type: offer.extended, data: \(data)}
                expect:
                  - {kind: ignored, reason: not_started, detail: start.if is false}
                """.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write("{$ref: ../../examples/events/offer-extended.json, offer: {tier: exec}}")
        let variant = await hirewire(["test", "flows/tests/exec-variant.test.yaml"], in: project)
        XCTAssertEqual(variant.code, 0, variant.out + variant.err)
        try write("{$ref: ../../examples/events/offer-extended.json}")
        let plain = await hirewire(["test", "flows/tests/exec-variant.test.yaml"], in: project)
        XCTAssertEqual(plain.code, 1, "without the override the journey starts")
        try "{\"candidate\": {\"id\": \"c1\"},\n \"candidate\": {}}\n".write(toFile: project + "/examples/events/bad.json", atomically: true, encoding: .utf8)
        try write("{$ref: ../../examples/events/bad.json}")
        let bad = await hirewire(["test", "flows/tests/exec-variant.test.yaml"], in: project)
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.out.contains("flows/tests/exec-variant.test.yaml:5:50: error: $ref '../../examples/events/bad.json' does not load: examples/events/bad.json:2:2: "), bad.out)
        XCTAssertTrue(bad.out.contains("0 passed, 1 failed\n"), bad.out)
        try write("[1]")
        let list = await hirewire(["test", "flows/tests/exec-variant.test.yaml"], in: project)
        XCTAssertTrue(list.out.contains("exec-variant.test.yaml:5:43: error: an event's data is an object of entities"), list.out)
    }

    /// With journeys for two keys, state/outcome say which with `key:` (the newest journey
    /// alone was checked); timeline fields that are times match as instants.
    func testSeveralJourneysAndTimesAsInstants() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let file = project + "/flows/tests/two.test.yaml"
        let offer = "{candidate: {id: c1, first_name: Ada, email: ada@example.com, timezone: Europe/London}, job: {title: SRE}, recruiter: {email: sam@acme.test}, offer: {id: o1, tier: B}"
        func write(_ expectations: String) throws {
            try """
                test: two applications
                flow: offer-nurture
                clock: 2026-03-02T21:00:00Z
                events:
                  - {at: +0m, type: offer.extended, data: \(offer), application: {id: a1}}}
                  - {at: +1m, type: offer.extended, data: \(offer), application: {id: a2}}}
                  - {at: +1h, type: offer.declined, data: {application: {id: a2}}}
                expect:
                \(expectations)
                """.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write("  - {state: declined, outcome: declined}")
        let vague = await hirewire(["test", "flows/tests/two.test.yaml"], in: project)
        XCTAssertEqual(vague.code, 1)
        XCTAssertTrue(vague.out.contains("the test has journeys for 2 keys (a1, a2): say which with key:"), vague.out)
        try write("""
              - {state: declined, outcome: declined, key: a2}
              - {state: call, outcome: timed_out, key: a1}
              - {at: +0m, kind: deferred, journey: a1, until: "2026-03-03T09:00:00+01:00"}
            """)
        let named = await hirewire(["test", "flows/tests/two.test.yaml"], in: project)
        XCTAssertEqual(named.code, 0, named.out + named.err)
    }

    /// A test event without a field its type requires, that no earlier event of its application
    /// supplies, is flagged where it is written: it records review and reaches no flow.
    func testAnIncompleteTestEventIsFlagged() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try """
            test: an acceptance out of nowhere
            flow: offer-nurture
            clock: 2026-03-02T14:00:00Z
            events:
              - {at: +0m, type: offer.accepted, data: {offer: {id: o1}}}
            expect:
              - {kind: review, reason: offer.accepted without application.id}
            """.write(toFile: project + "/flows/tests/incomplete.test.yaml", atomically: true, encoding: .utf8)
        let validate = await hirewire(["validate"], in: project)
        XCTAssertEqual(validate.code, 0, "a warning: \(validate.out)")
        XCTAssertTrue(validate.out.contains("flows/tests/incomplete.test.yaml:5:5: warning: this offer.accepted lacks application.id"), validate.out)
        let run = await hirewire(["test", "flows/tests/incomplete.test.yaml"], in: project)
        XCTAssertEqual(run.code, 0, run.out + run.err)
    }

    func testABrokenExpectationFailsWithReason() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/tests/offer-friday-no-response.test.yaml", replacing: "2026-03-09T09:00:00Z\", email", with: "2026-03-09T10:00:00Z\", email")
        let r = await hirewire(["test", "flows/tests/offer-friday-no-response.test.yaml"], in: project)
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.out.contains("no email at 2026-03-09T10:00:00Z matching"), r.out)
        XCTAssertTrue(r.out.contains("email offer-check-in at +2d17h (2026-03-09T09:00:00Z)"), r.out)
        XCTAssertTrue(r.out.hasSuffix("0 passed, 1 failed\n"), r.out)
    }

    func testSimulatePrintsTheTimeline() async throws {
        let events = NSTemporaryDirectory() + "events-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: events) }
        let lines = [
            #"{"at": "2026-03-02T14:00:00Z", "type": "offer.extended", "data": {"type": "offer.extended", "data": {"candidate": {"id": "c1", "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"}, "application": {"id": "a1"}, "job": {"title": "SRE"}, "recruiter": {"email": "sam@acme.test"}, "offer": {"id": "o1", "tier": "B"}}}}"#,
            #"{"at": "+2h", "type": "offer.viewed", "data": {"application": {"id": "a1"}}}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: events, atomically: true, encoding: .utf8)
        let r = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", events, "--until", "+2d"])
        XCTAssertEqual(r.code, 0, r.err)
        let entries = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(entries.count, r.out.split(separator: "\n").count)
        let kinds = entries.compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds.first, "start")
        XCTAssertTrue(kinds.contains("timer_fired"))
        let slack = entries.first { $0["connector"] as? String == "slack" }
        XCTAssertEqual(slack?["at"] as? String, "2026-03-02T16:00:00Z")
        XCTAssertEqual((slack?["args"] as? [String: Any])?["text"] as? String, "Ada is reviewing the SRE offer")
        let task = entries.first { $0["connector"] as? String == "task" }
        XCTAssertEqual(task?["at"] as? String, "2026-03-03T16:00:00Z")
        let times = entries.compactMap { $0["at"] as? String }
        XCTAssertEqual(times, times.sorted())
    }

    /// An unknown event type in the events file is an error at its line, as in flow tests (it
    /// used to show only as a journey that never started); `--until` takes a date, and the clock
    /// stops there: later events are not fed.
    func testSimulateRejectsUnknownTypesAndStopsAtADate() async throws {
        let events = NSTemporaryDirectory() + "events-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: events) }
        try "# a week\n{\"at\": \"2026-03-02T14:00:00Z\", \"type\": \"offer.extnded\", \"data\": {}}\n".write(toFile: events, atomically: true, encoding: .utf8)
        let bad = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", events])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertTrue(bad.err.contains("\(events):2:40: unknown event type 'offer.extnded' (did you mean 'offer.extended'?)"), bad.err)
        XCTAssertEqual(bad.out, "")
        // CRLF lines read; a line is strict JSON with every mistake at its column; every line says when.
        let week = try String(contentsOfFile: repoRoot + "/examples/events/offer-week.jsonl", encoding: .utf8)
        try week.replacingOccurrences(of: "\n", with: "\r\n").write(toFile: events, atomically: true, encoding: .utf8)
        let crlf = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", events, "--until", "+7d"])
        XCTAssertEqual(crlf.code, 0, crlf.err)
        for (line, wanted) in [(#"{"at": "2026-03-02T14:00:00Z", "type": "offer.viewed", "data": {"a": 1,}}"#, ":1:71: not strict JSON: trailing comma"),
                               (#"{"type": "offer.viewed", "data": {}}"#, ":1:1: missing \"at\""),
                               (#"{"at": "2026-03-02T14:00:00Z", "type": "offer.viewed", "dta": {}}"#, ":1:56: unknown key 'dta' (did you mean 'data'?)"),
                               (#"{"at": "2026-03-02T14:00:00Z", "type": "offer.viewed", "data": [1]}"#, ":1:64: \"data\" is an object of entities"),
                               // The first line starts the clock: relative to nothing, it was the wall clock's.
                               (#"{"at": "+0m", "type": "offer.viewed", "data": {}}"#, ":1:8: the first line's \"at\" must be a time"),
                               // A pretty-printed file: the hint says what a line holds.
                               ("{\n  \"at\": \"2026-03-02T14:00:00Z\"\n}", ":1:1: did not find expected node content (while parsing a flow node at 2:1) (each line holds one whole event")] {
            try line.write(toFile: events, atomically: true, encoding: .utf8)
            let r = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", events])
            XCTAssertEqual(r.code, 2, line)
            XCTAssertTrue(r.err.contains(events + wanted), r.err)
        }
        let r = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", "examples/events/offer-week.jsonl", "--until", "2026-03-09"])
        XCTAssertEqual(r.code, 0, r.err)
        let entries = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let times = entries.compactMap { $0["at"] as? String }
        XCTAssertFalse(times.isEmpty)
        XCTAssertLessThanOrEqual(times.last ?? "", "2026-03-09T00:00:00Z", r.out)
        XCTAssertTrue(times.contains("2026-03-08T17:00:00Z"), r.out)  // Sunday's deadline reminder
        for notAFlow in ["flows/tests", "templates/offer-next-steps.yaml", "hirewire.yaml"] {
            let r = await hirewire(["simulate", notAFlow, "--events", "examples/events/offer-week.jsonl"])
            XCTAssertEqual(r.code, 2, notAFlow)
            XCTAssertTrue(r.err.contains("\(notAFlow) is not a flow file"), r.err)
        }
        let typo = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", "examples/events/offer-week.jsonl", "--until", "2026-03-9"])
        XCTAssertEqual(typo.code, 2)
        XCTAssertTrue(typo.err.contains("'2026-03-9' is not a time"), typo.err)
    }

    /// The README's command on the bundled week of offer events: Friday's email, Sunday's
    /// deadline reminder, Monday's check-in capped (two emails in 72h) with its call task
    /// instead, Slack when the offer is viewed, the call task a day later, hired on Wednesday.
    func testSimulateTheBundledOfferWeek() async throws {
        let r = await hirewire(["simulate", "flows/offer-nurture.yaml", "--events", "examples/events/offer-week.jsonl", "--until", "+7d"])
        XCTAssertEqual(r.code, 0, r.err)
        let entries = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let outward = entries.filter { ["action", "capped"].contains($0["kind"] as? String) }
            .map { "\($0["kind"] ?? "") \($0["connector"] ?? "") \($0["at"] ?? "")" }
        XCTAssertEqual(outward, ["action email 2026-03-06T16:00:00Z", "action email 2026-03-08T17:00:00Z", "capped email 2026-03-09T09:00:00Z",
                                 "action task 2026-03-09T09:00:00Z", "action slack 2026-03-09T10:30:00Z", "action task 2026-03-10T10:30:00Z",
                                 "action slack 2026-03-11T09:15:00Z"], r.out)
        XCTAssertEqual(entries.last?["kind"] as? String, "end")
        XCTAssertEqual(entries.last?["outcome"] as? String, "hired")
        // Only the follow-up timer, left when the offer is viewed, and the timeout, when the journey
        // ends, are cancelled; fired timers (the journey-wide deadline reminder among them) are not.
        XCTAssertEqual(entries.filter { $0["kind"] as? String == "timer_cancelled" }.compactMap { $0["timer"] as? String },
                       ["states.follow_up.after[0]", "timeout"])
    }
}
