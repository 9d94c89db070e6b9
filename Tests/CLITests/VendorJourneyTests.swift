import Foundation
import XCTest
import HirewireEngine
import HirewireStore

/// The bundled journeys driven by the vendors' own payload shapes (examples/payloads), signed with
/// each vendor's scheme by `hirewire send`, through the real `serve` binary on 127.0.0.1.
final class VendorJourneyTests: XCTestCase {
    static let secrets = ["GREENHOUSE_SECRET": "gh-secret", "LEVER_SECRET": "lever-secret", "ASHBY_SECRET": "ashby-secret",
                          "WORKABLE_SECRET": "workable-secret", "HIREWIRE_EVENTS_TOKEN": "token"]
    var project = ""
    var server: ServerProcess!
    var store: SQLiteStore!

    override func setUp() async throws {
        project = try copyOfBundledProject()
        server = try ServerProcess(project: project, environment: Self.secrets)
        for (name, value) in Self.secrets { setenv(name, value, 1) }
        store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
    }

    override func tearDown() async throws {
        _ = server?.stop()
        try? FileManager.default.removeItem(atPath: project)
    }

    /// `hirewire send SOURCE examples/payloads/SOURCE/NAME.json`, returning the printed answer.
    func send(_ source: String, _ name: String) async -> String {
        let result = await hirewire(["send", source, "examples/payloads/\(source)/\(name).json", "--url", "http://127.0.0.1:\(server.port)/hooks/\(source)"],
                                    in: project)
        return result.out + result.err
    }

    /// Waits until `condition` holds (the engine maps and steps after the 202).
    func eventually(_ what: String, _ condition: () throws -> Bool) async throws {
        for _ in 0..<100 {
            if try condition() { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    /// Emails with `template`, queued or held back by quiet hours: `serve` runs on the real clock,
    /// and in the candidate's evening (New York, 20:00–08:00) candidate email waits for morning.
    func emails(_ template: String) throws -> [PlannedAction] {
        let held = try store.timers(dueBefore: nil).compactMap { timer -> PlannedAction? in
            if case .deferred(let action, _) = timer.kind { return action } else { return nil }
        }
        return (try store.outbox(journey: nil) + held).filter { $0.connector == "email" && $0.template == template }
    }

    func testGreenhouseApplicationThenIdOnlyOfferRunsBothJourneysOnce() async throws {
        let applied = await send("greenhouse", "new_candidate_application")
        XCTAssertTrue(applied.hasPrefix("202 "), applied)
        try await eventually("application-received journey") { try store.activeJourney(flow: "application-received", key: "77120455") != nil }
        try await eventually("acknowledgement email") { try !emails("application-received").isEmpty }
        XCTAssertEqual(try emails("application-received").first?.arguments["to"].stringValue, "ada@example.com")

        // The offer webhook carries ids only; the candidate, job and recruiter come from the application.
        let offered = await send("greenhouse", "offer_created")
        XCTAssertTrue(offered.hasPrefix("202 "), offered)
        try await eventually("offer-nurture journey") { try store.activeJourney(flow: "offer-nurture", key: "77120455")?.state == "extended" }
        try await eventually("offer email") { try !emails("offer-next-steps").isEmpty }
        let offerEmail = try XCTUnwrap(emails("offer-next-steps").first)
        XCTAssertEqual(offerEmail.arguments["to"].stringValue, "ada@example.com")
        XCTAssertEqual(offerEmail.arguments["reply_to"].stringValue, "sam@acme.test")
        XCTAssertTrue(offerEmail.arguments["text"].stringValue?.contains("Senior Data Engineer") ?? false, "\(offerEmail.arguments)")

        // Greenhouse retries repeat the delivery: answered 200, and no second email.
        let retried = await send("greenhouse", "offer_created")
        XCTAssertTrue(retried.hasPrefix("200 "), retried)
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(try emails("offer-next-steps").count, 1)

        // The rejection ends the application journey.
        let rejected = await send("greenhouse", "reject_candidate")
        XCTAssertTrue(rejected.hasPrefix("202 "), rejected)
        try await eventually("rejection") { try store.journeys(flow: "application-received", key: "77120455").first?.outcome == "rejected" }

        // A forged delivery (signed with another secret) is refused and never stored.
        setenv("GREENHOUSE_SECRET", "not-the-secret", 1)
        let forged = await send("greenhouse", "candidate_stage_change")
        setenv("GREENHOUSE_SECRET", Self.secrets["GREENHOUSE_SECRET"] ?? "", 1)
        XCTAssertTrue(forged.hasPrefix("401 "), forged)
        XCTAssertFalse(try store.deliveries(limit: 100).contains { String(decoding: $0.body, as: UTF8.self).contains("Technical Interview") })

        // `events` tells what came in, how often, and which journeys it reached.
        let events = await hirewire(["events", "--source", "greenhouse"], in: project)
        let offerLine = try XCTUnwrap(events.out.split(separator: "\n").first { $0.contains("offer.extended") }, events.out)
        XCTAssertTrue(offerLine.contains("(+1 duplicate)  → "), String(offerLine))
        XCTAssertTrue(offerLine.contains("offer-nurture/77120455"), String(offerLine))
        // The application journey only ignored the offer (no handler in its state): it says so.
        XCTAssertTrue(offerLine.contains("application-received/77120455 (ignored)"), String(offerLine))
        XCTAssertFalse(offerLine.contains("offer-nurture/77120455 (ignored)"), String(offerLine))
        let json = await hirewire(["events", "--source", "greenhouse", "--type", "offer.extended", "--format", "json"], in: project)
        let offer = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]])?.first, json.out)
        XCTAssertEqual(offer["journeys"] as? [String], ["offer-nurture/77120455"], json.out)
        XCTAssertEqual(offer["ignored_by"] as? [String], ["application-received/77120455"], json.out)
        let appliedLine = try XCTUnwrap(events.out.split(separator: "\n").first { $0.contains("candidate.applied") }, events.out)
        XCTAssertTrue(appliedLine.hasSuffix("→ application-received/77120455"), String(appliedLine))
        let onlyOffers = await hirewire(["events", "--type", "offer.extended", "--since", "-1h"], in: project)
        XCTAssertEqual(onlyOffers.out.split(separator: "\n").count, 1, onlyOffers.out)

        // The JSON log tells what happened without candidates' personal data.
        let (status, log) = server.stop()
        XCTAssertEqual(status, 0)
        let lines = log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.count, log.split(separator: "\n").count, "every log line is JSON")
        let mapped = lines.filter { $0["msg"] as? String == "delivery mapped" }
        XCTAssertEqual(mapped.count, 3, log)
        XCTAssertEqual((mapped.first?["candidate"] as? [String: Any])?["email"] as? String, "***")
        XCTAssertEqual((mapped.first?["candidate"] as? [String: Any])?["id"] as? String, "48213907")
        XCTAssertTrue(lines.contains { $0["msg"] as? String == "request refused" && $0["status"] as? Int == 401 }, log)
        for secret in ["ada@example.com", "Lovelace", "+44 20 7946 0018"] { XCTAssertFalse(log.contains(secret), secret) }
    }

    func testWorkableCandidateIsAcknowledgedAndDisqualificationEndsTheJourney() async throws {
        let created = await send("workable", "candidate_created")
        XCTAssertTrue(created.hasPrefix("202 "), created)
        try await eventually("acknowledgement email") { try !emails("application-received").isEmpty }
        XCTAssertEqual(try emails("application-received").first?.arguments["to"].stringValue, "katherine@example.com")
        let disqualified = await send("workable", "candidate_disqualified")
        XCTAssertTrue(disqualified.hasPrefix("202 "), disqualified)
        try await eventually("rejection") { try store.journeys(flow: "application-received", key: "3fa2e1").first?.outcome == "rejected" }
    }

    func testAshbyApplicationStartsTheJourneyAndPingIsIgnored() async throws {
        let submitted = await send("ashby", "applicationSubmit")
        XCTAssertTrue(submitted.hasPrefix("202 "), submitted)
        try await eventually("acknowledgement email") { try !emails("application-received").isEmpty }
        XCTAssertEqual(try emails("application-received").first?.arguments["to"].stringValue, "grace@example.com")
        let ping = await send("ashby", "ping")
        XCTAssertTrue(ping.hasPrefix("202 "), ping)
        try await eventually("ping marked ignored") { try store.deliveries(limit: 10).contains { $0.status == "ignored" } }
        let events = await hirewire(["events"], in: project)
        XCTAssertTrue(events.out.contains("ignored"), events.out)
    }

    func testLeverIdOnlyApplicationGoesToReviewWithItsReason() async throws {
        let created = await send("lever", "applicationCreated")
        XCTAssertTrue(created.hasPrefix("202 "), created)
        try await eventually("mapped") { try store.deliveries(limit: 10).contains { $0.status == "accepted" } }
        // Lever sent ids only: the journey cannot start without an email, and says so.
        var letters = ""
        for _ in 0..<60 where !letters.contains("candidate.email") {
            try await Task.sleep(nanoseconds: 50_000_000)
            letters = await hirewire(["dead-letters"], in: project).out
        }
        XCTAssertTrue(letters.contains("candidate.email"), letters)
        XCTAssertTrue(try emails("application-received").isEmpty)
    }

    /// Webhooks arrive out of order: an offer before its application goes to review; the
    /// application arriving sends it back, and the offer journey starts with no one replaying it.
    func testOfferBeforeApplicationWaitsInReviewUntilTheApplicationArrives() async throws {
        let offered = await send("greenhouse", "offer_created")
        XCTAssertTrue(offered.hasPrefix("202 "), offered)
        var list = ""
        for _ in 0..<60 where !list.contains("delivery:") {
            try await Task.sleep(nanoseconds: 50_000_000)
            list = await hirewire(["dead-letters"], in: project).out
        }
        XCTAssertTrue(list.contains("offer.extended without candidate.id"), list)
        let id = try XCTUnwrap(list.split(separator: " ").first.map(String.init))
        let shown = await hirewire(["dead-letters", "show", id], in: project)
        XCTAssertTrue(shown.out.contains("\"offer_created\""), shown.out)
        // Replayed before its application is known, it only goes back to review.
        let early = await hirewire(["dead-letters", "replay", id], in: project)
        XCTAssertEqual(early.code, 0, early.err)
        try await eventually("back in review") {
            try store.deadLetters(DeadLetterQuery(kinds: [.delivery], limit: 10)).contains { $0.id == id }
        }
        XCTAssertTrue(try emails("offer-next-steps").isEmpty)

        _ = await send("greenhouse", "new_candidate_application")
        try await eventually("offer email once the application is known") { try !emails("offer-next-steps").isEmpty }
        XCTAssertEqual(try emails("offer-next-steps").first?.arguments["to"].stringValue, "ada@example.com")
        let after = await hirewire(["dead-letters"], in: project)
        XCTAssertFalse(after.out.contains(id + " "), after.out)
        let events = await hirewire(["events"], in: project)
        XCTAssertTrue(events.out.contains("accepted  ") && events.out.contains("offer.extended  → "), events.out)
        let again = await hirewire(["dead-letters", "replay", id], in: project)
        XCTAssertNotEqual(again.code, 0, "healed: nothing waits to be replayed")
        let all = await hirewire(["dead-letters", "replay", "--all"], in: project)
        XCTAssertEqual(all.code, 0, all.err)
        XCTAssertTrue(all.out.hasSuffix("0 of 0 replayed\n"), all.out)
        XCTAssertEqual(try emails("offer-next-steps").count, 1, "one offer email, however it got in")
    }

    /// A journey refused for missing data starts by itself when the data arrives later.
    func testReviewItemStartsItsJourneyWhenTheDataArrivesLater() async throws {
        _ = await send("lever", "applicationCreated")
        var list = ""
        for _ in 0..<60 where !list.contains("review:") {
            try await Task.sleep(nanoseconds: 50_000_000)
            list = await hirewire(["dead-letters"], in: project).out
        }
        let line = try XCTUnwrap(list.split(separator: "\n").first { $0.hasPrefix("review:") && $0.contains("application-received") }, list)
        let first = String(line.split(separator: " ")[0])
        // `events` shows where the event went: to review, not merely "no journey".
        let events = await hirewire(["events"], in: project)
        XCTAssertTrue(events.out.contains("→ \(first) (application-received: "), events.out)
        // Replayed before the data arrived, the flow refuses it again: said, and exit 1.
        let early = await hirewire(["dead-letters", "replay", first], in: project)
        XCTAssertEqual(early.code, 1, early.out + early.err)
        XCTAssertTrue(early.err.contains("application-received refused"), early.err)
        let id = try XCTUnwrap(early.err.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, early.err)
        XCTAssertTrue(id.hasPrefix("review:") && id != first, id)
        // The candidate's reply, posted by the recruiter's system as a canonical event, carries
        // the contact details. The refused application is routed first (it came first), so the
        // journey exists when the reply reaches it.
        let event = #"{"id": "evt_contact_1", "type": "candidate.replied", "data": {"application": {"id": "7f4e3c1a-5b2d-4e8f-9a10-2c3d4e5f6a7b"}, "candidate": {"id": "c9", "first_name": "Mary", "email": "mary@example.com"}, "job": {"title": "Site Reliability Engineer"}}}"#
        let file = project + "/contact.json"
        try event.write(toFile: file, atomically: true, encoding: .utf8)
        let posted = await hirewire(["send", "events", file, "--url", "http://127.0.0.1:\(server.port)/events"], in: project)
        XCTAssertTrue(posted.out.hasPrefix("202 "), posted.out + posted.err)
        // Its data in, the refused event is routed again to its flow with it: no one replays it.
        try await eventually("acknowledgement once the email is known") { try !emails("application-received").isEmpty }
        XCTAssertEqual(try emails("application-received").first?.arguments["to"].stringValue, "mary@example.com")
        XCTAssertEqual(try emails("application-received").count, 1)
        try await eventually("the reply reached the journey") {
            try store.outbox(journey: nil).contains { $0.connector == "task" && ($0.arguments["title"].stringValue ?? "").contains("Mary replied") }
        }
        let after = await hirewire(["dead-letters"], in: project)
        XCTAssertFalse(after.out.contains("review:"), after.out)
        let replayed = await hirewire(["dead-letters", "replay", id], in: project)
        XCTAssertNotEqual(replayed.code, 0, "healed: nothing waits to be replayed")
    }
}
