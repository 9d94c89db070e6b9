import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// Erasure and retention against the real `serve` binary on 127.0.0.1.
final class ServeErasureTests: XCTestCase {
    /// Erasing a candidate while serve runs ends their journey; the server keeps working and a
    /// later event for the application does not bring their data back.
    func testEraseWhileServing() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let server = try ServerProcess(project: project, environment: ["HIREWIRE_EVENTS_TOKEN": "s3cret"])
        func post(_ body: String) async throws -> Int { try await postEvent(body, port: server.port, token: "s3cret") }
        let offer = try String(contentsOfFile: repoRoot + "/examples/events/offer-extended.json", encoding: .utf8)
        let code = try await post(offer)
        XCTAssertEqual(code, 202)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        var started: Journey?
        for _ in 0..<50 where started == nil {
            try await Task.sleep(nanoseconds: 100_000_000)
            started = try store.activeJourney(flow: "offer-nurture", key: "a1")
        }
        let journey = try XCTUnwrap(started, "the offer journey never started")

        let erased = await hirewire(["erase", "--candidate", "c1"], in: project)
        XCTAssertEqual(erased.code, 0, erased.err)
        XCTAssertTrue(erased.out.contains("\(journey.id) ended (erased) in state extended"), erased.out)
        let viewed = #"{"id": "evt-view-1", "type": "offer.viewed", "occurred_at": "2026-03-03T10:00:00Z", "data": {"application": {"id": "a1"}, "candidate": {"id": "c1", "email": "ada@example.com"}}}"#
        let later = try await post(viewed)
        XCTAssertEqual(later, 202)
        var processed = false
        for _ in 0..<50 where !processed {
            try await Task.sleep(nanoseconds: 100_000_000)
            processed = try store.pendingInbox(limit: 10).isEmpty
        }
        XCTAssertTrue(processed)
        let after = try XCTUnwrap(try store.journey(id: journey.id))
        XCTAssertEqual(after.outcome, "erased")
        XCTAssertEqual(after.context, [:], "the later event did not write the context back")
        XCTAssertNil(try store.activeJourney(flow: "offer-nurture", key: "a1"), "a viewed offer starts no journey")
        let (status, log) = server.stop()
        XCTAssertEqual(status, 0, log)
    }

    /// serve applies `retention:` as it starts: a journey that ended long ago loses its data.
    func testServeAppliesRetentionAtStart() throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let longAgo = Date().addingTimeInterval(-400 * 86400)
        do {
            let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: SQLiteStore(path: project + "/.hirewire/hirewire.db"),
                                           env: ["ONBOARDING_URL": "https://hr.example.com/onboarding"])
            let data = try Value.parseJSON(Data(contentsOf: URL(fileURLWithPath: repoRoot + "/examples/events/offer-extended.json")))["data"]
            _ = try engine.submit([CanonicalEvent(id: "old-offer", type: "offer.extended", occurredAt: longAgo, source: "test", data: data),
                                   CanonicalEvent(id: "old-decline", type: "offer.declined", occurredAt: longAgo, source: "test",
                                                  data: ["application": ["id": "a1"]])], now: longAgo)
            try engine.processInbox(now: longAgo)
            XCTAssertEqual(try engine.store.journeys(flow: "offer-nurture", key: "a1").first?.outcome, "declined")
        }
        let server = try ServerProcess(project: project)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        var swept = false
        for _ in 0..<50 where !swept {
            Thread.sleep(forTimeInterval: 0.1)
            swept = try store.journeys(flow: "offer-nurture", key: "a1").isEmpty
        }
        let (status, log) = server.stop()
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(swept, "the old journey still has its key: \(log)")
        let line = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("\"msg\":\"retention applied\"") }, log)
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(fields["erased_journeys"] as? Int, 1, String(line))
        XCTAssertEqual(fields["purged"] as? Int, 2, "the two settled events, counted apart from the events erased: \(line)")
        XCTAssertNil(try store.inboxEvent(id: "old-offer"), "settled events older than retention.events are gone")
    }
}
