import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

/// `hirewire report`'s KPIs over a real store that a real engine filled.
final class ReportCommandTests: XCTestCase {
    let start = Timestamp.parse("2030-01-07T10:00:00Z") ?? Date()

    func offer(_ id: String, _ type: String, at hours: Double, recruiter: String = "sam@acme.test") -> CanonicalEvent {
        CanonicalEvent(id: "\(type)-\(id)-\(hours)", type: type, occurredAt: start.addingTimeInterval(hours * 3600), source: "test", data: [
            "candidate": ["id": .string("c-\(id)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": .string(id)], "job": ["title": "SRE"], "recruiter": ["email": .string(recruiter)],
            "offer": ["id": .string("o-\(id)"), "tier": "B"],
        ])
    }

    func testOfferAndStageKPIs() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: SQLiteStore(path: project + "/.hirewire/hirewire.db"),
                                       env: ["ONBOARDING_URL": "https://hr.example.com/onboarding"], now: start)
        // a1 viewed, then accepted 36 h after the offer; a2 declined after 10 h; a3 still open;
        // a4 (another recruiter) accepted after 2 h; a5 withdrew before deciding.
        let events = [
            offer("a1", "offer.extended", at: 0), offer("a2", "offer.extended", at: 0), offer("a3", "offer.extended", at: 0),
            offer("a4", "offer.extended", at: 0, recruiter: "lee@acme.test"), offer("a5", "offer.extended", at: 0, recruiter: "lee@acme.test"),
            offer("a4", "offer.accepted", at: 2, recruiter: "lee@acme.test"), offer("a1", "offer.viewed", at: 5), offer("a2", "offer.declined", at: 10),
            offer("a5", "candidate.withdrawn", at: 20, recruiter: "lee@acme.test"), offer("a1", "offer.accepted", at: 36),
        ]
        for event in events {
            _ = try engine.submit([event], now: event.occurredAt)
            try engine.processInbox(now: event.occurredAt)
        }
        let r = await hirewire(["report", "--since", "2030-01-01T00:00:00Z", "--format", "json"], in: project)
        XCTAssertEqual(r.code, 0, r.err)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
        let offers = try XCTUnwrap(report["offers"] as? [String: Any], r.out)
        let recruiters = try XCTUnwrap(offers["recruiters"] as? [[String: Any]])
        XCTAssertEqual(recruiters.map { $0["recruiter"] as? String }, ["lee@acme.test", "sam@acme.test"])
        XCTAssertEqual(recruiters.map { $0["extended"] as? Int }, [2, 3])
        XCTAssertEqual(recruiters.map { $0["accepted"] as? Int }, [1, 1])
        XCTAssertEqual(recruiters.map { $0["declined"] as? Int }, [0, 1])
        XCTAssertEqual(recruiters.map { $0["acceptance_rate"] as? Double }, [1, 0.5])
        let cycle = try XCTUnwrap(offers["offer_to_acceptance"] as? [String: Any])
        XCTAssertEqual(cycle["accepted"] as? Int, 2)
        XCTAssertEqual(cycle["median_seconds"] as? Double, 2 * 3600)
        XCTAssertEqual(cycle["p90_seconds"] as? Double, 36 * 3600)

        let stages = try XCTUnwrap(report["stages"] as? [[String: Any]])
        func stage(_ name: String) throws -> [String: Any] {
            try XCTUnwrap(stages.first { $0["flow"] as? String == "offer-nurture" && $0["state"] as? String == name }, "\(name): \(stages)")
        }
        let extended = try stage("extended")
        XCTAssertEqual(extended["entered"] as? Int, 5)
        XCTAssertEqual(extended["moved_on"] as? Int, 3, "a1 viewed, a2 declined, a4 accepted")
        XCTAssertEqual(extended["ended"] as? [String: Int], ["withdrawn": 1])
        XCTAssertEqual(extended["waiting"] as? Int, 1)
        XCTAssertEqual(extended["drop_off_rate"] as? Double, 0.2)
        XCTAssertEqual(extended["advance_rate"] as? Double, 0.6)
        let viewed = try stage("viewed")
        XCTAssertEqual(viewed["entered"] as? Int, 1)
        XCTAssertEqual(viewed["moved_on"] as? Int, 1)
        let accepted = try stage("accepted")
        XCTAssertEqual(accepted["final"] as? Bool, true)
        XCTAssertEqual(accepted["entered"] as? Int, 2)
        XCTAssertEqual(accepted["ended"] as? [String: Int], ["hired": 2])
        XCTAssertTrue(accepted["drop_off_rate"] is NSNull, "reaching a final state is no drop-off")

        let text = await hirewire(["report", "--since", "2030-01-01T00:00:00Z"], in: project)
        XCTAssertTrue(text.out.contains("offers extended in the period: 5 (accepted 2, declined 1, open 2)"), text.out)
        XCTAssertTrue(text.out.contains("offer to acceptance: median 2.0 h, 90th percentile 36.0 h (2 accepted)"), text.out)
        XCTAssertTrue(text.out.contains("    sam@acme.test  extended 3  accepted 1  declined 1  50.0%"), text.out)
        XCTAssertTrue(text.out.contains("entered 5  moved on 3 (60.0%)  dropped off 1 (20.0%): withdrawn 1  waiting 1"), text.out)
        // A period that starts after every offer has none of them.
        let later = await hirewire(["report", "--since", "2030-02-01T00:00:00Z"], in: project)
        XCTAssertTrue(later.out.contains("offers extended in the period: 0 (accepted 0, declined 0, open 0)"), later.out)
    }
}
