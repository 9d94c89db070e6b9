import Foundation
import XCTest
import HirewireStore
import HirewireLanguage
import HirewireRuntime
import HirewireEngine

final class EventsCommandTests: XCTestCase {
    /// `events`: `show --format json` is JSON alone; `--rejected` takes `--since` and refuses
    /// `--type`; a long status (`dismissed`) is shown whole.
    func testEventsShowsJSONFiltersRefusalsAndWholeStatuses() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let now = Date()
        _ = try store.appendDeliveries([Delivery(source: "events", eventId: "x1", receivedAt: now, headers: [:],
                                                 body: Array(#"{"type": "offer.viewed", "data": {"candidate": {"email": "ada@example.com"}}}"#.utf8))])
        try store.recordRejection(at: now.addingTimeInterval(-7200), source: "greenhouse", status: 401, reason: "old refusal", peer: "127.0.0.1")
        try store.recordRejection(at: now, source: "greenhouse", status: 401, reason: "new refusal", peer: "127.0.0.1")
        let shown = await hirewire(["events", "show", "x1", "--format", "json"], in: project)
        XCTAssertEqual(shown.code, 0, shown.err)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any], shown.out)
        XCTAssertEqual(((object["body"] as? [String: Any])?["data"] as? [String: Any]).flatMap { ($0["candidate"] as? [String: Any])?["email"] as? String }, "***")
        let recent = await hirewire(["events", "--rejected", "--since", "-1h"], in: project)
        XCTAssertTrue(recent.out.contains("new refusal") && !recent.out.contains("old refusal"), recent.out)
        let typed = await hirewire(["events", "--rejected", "--type", "offer.viewed"], in: project)
        XCTAssertEqual(typed.code, 2, typed.out)
        let item = try XCTUnwrap(try store.deliveries(limit: 1).first)
        try store.markDelivery(item.sequence, status: "dismissed", detail: "by hand")
        let listed = await hirewire(["events"], in: project)
        XCTAssertTrue(listed.out.contains("  dismissed  x1"), listed.out)
    }

    /// Replaying a delivery that still lacks what its type requires says so (exit 1), instead of
    /// counting it as replayed; `replay --all` then counts it as not replayed.
    func testReplayingADeliveryThatFallsBackIntoReviewSaysSo() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: store)
        _ = try store.appendDeliveries([Delivery(source: "events", eventId: "x4", receivedAt: Date(), headers: [:],
                                                 body: Array(#"{"type": "offer.viewed", "data": {}}"#.utf8))])
        try engine.mapDeliveries(sources: [:], now: Date())
        let item = try XCTUnwrap(try store.deadLetters(limit: 10).first { $0.kind == .delivery })
        let replayed = await hirewire(["dead-letters", "replay", item.id], in: project)
        XCTAssertEqual(replayed.code, 1, replayed.out)
        XCTAssertTrue(replayed.err.contains("\(item.id): mapped again, and back in review"), replayed.err)
        let all = await hirewire(["dead-letters", "replay", "--all"], in: project)
        XCTAssertTrue(all.out.contains("0 of 1 replayed"), all.out + all.err)
    }
}
