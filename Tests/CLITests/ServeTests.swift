import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireStore

/// `hirewire serve` as a user runs it: the real binary on 127.0.0.1, a canonical event in, a
/// journey out, a graceful stop on SIGTERM.
final class ServeTests: XCTestCase {
    func testServeAcceptsEventsRunsJourneysAndStopsGracefully() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let server = try ServerProcess(project: project, environment: ["HIREWIRE_EVENTS_TOKEN": "s3cret"])
        let port = server.port
        XCTAssertGreaterThan(port, 0)
        var folder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/.hirewire/mail/new", isDirectory: &folder) && folder.boolValue,
                      "the Maildir is there before the first message")
        let event = try String(contentsOfFile: repoRoot + "/examples/events/offer-extended.json", encoding: .utf8)
        func post(_ token: String?) async throws -> Int { try await postEvent(event, port: port, token: token) }
        let accepted = try await post("s3cret")
        XCTAssertEqual(accepted, 202)
        let duplicate = try await post("s3cret")
        XCTAssertEqual(duplicate, 200)
        let refused = try await post("wrong")
        XCTAssertEqual(refused, 401)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        var journeyState: String?
        for _ in 0..<50 where journeyState == nil {
            try await Task.sleep(nanoseconds: 100_000_000)
            journeyState = try store.activeJourney(flow: "offer-nurture", key: "a1")?.state
        }
        XCTAssertEqual(journeyState, "extended")
        // The same event through `hirewire send` is a duplicate; `events` lists what came in.
        setenv("HIREWIRE_EVENTS_TOKEN", "s3cret", 1)
        let sent = await hirewire(["send", "events", repoRoot + "/examples/events/offer-extended.json", "--url", "http://127.0.0.1:\(port)/events"], in: project)
        XCTAssertEqual(sent.code, 0, sent.err)
        XCTAssertTrue(sent.out.hasPrefix("200 "), sent.out)
        let events = await hirewire(["events"], in: project)
        XCTAssertTrue(events.out.contains("events  accepted  evt_01HOFFEREXT0000000000001  offer.extended"), events.out)
        let shown = await hirewire(["events", "show", "evt_01HOFFEREXT0000000000001"], in: project)
        XCTAssertTrue(shown.out.contains("\"email\": \"***\""), shown.out)
        XCTAssertFalse(shown.out.contains("ada@example.com"), shown.out)
        XCTAssertTrue(shown.out.contains("\"tier\": \"B\""), shown.out)
        let unmasked = await hirewire(["events", "show", "evt_01HOFFEREXT0000000000001", "--unmask"], in: project)
        XCTAssertTrue(unmasked.out.contains("ada@example.com"), unmasked.out)
        let rejected = await hirewire(["events", "--rejected"], in: project)
        XCTAssertTrue(rejected.out.contains("401  events  missing or wrong bearer token"), rejected.out)
        // The email is queued once: in the outbox, or, in the candidate's quiet hours (the test
        // runs on the real clock), deferred as a timer until they end.
        let queued = try store.outbox(journey: nil).filter { $0.template == "offer-next-steps" }.count
        let deferred = try store.timers(dueBefore: nil).filter {
            if case .deferred(let action, _) = $0.kind { return action.template == "offer-next-steps" } else { return false }
        }.count
        XCTAssertEqual(queued + deferred, 1)
        // A canonical event lacking a field its type requires goes to review, and the log says so.
        let incomplete = try await postEvent(#"{"id": "x4", "type": "offer.viewed", "data": {}}"#, port: port, token: "s3cret")
        XCTAssertEqual(incomplete, 202)
        var reviewed = false
        for _ in 0..<50 where !reviewed {
            try await Task.sleep(nanoseconds: 100_000_000)
            reviewed = try store.deadLetters(limit: 10).contains { $0.kind == .delivery }
        }
        XCTAssertTrue(reviewed)
        let (status, log) = server.stop()
        XCTAssertEqual(status, 0)
        XCTAssertTrue(log.contains("\"msg\":\"stopped\""), log)
        XCTAssertTrue(log.contains("\"msg\":\"delivery needs review\"") && log.contains("\"event_id\":\"x4\""), log)
    }

    /// A port past 65535 is a usage error (it was clamped, and the server listened on 65535).
    func testAPortOutOfRangeIsAUsageError() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let r = await hirewire(["serve", "--port", "70000"], in: project)
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("--port takes 0 to 65535"), r.err)
    }
}
