import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireLanguage
import HirewireStore
@testable import HirewireIntake

/// The intake behind the real HTTP server, on a real SQLite store, with real signatures.
final class IntakeTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    var root = ""
    var store: SQLiteStore!
    var server: HTTPServer!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "hirewire-intake-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sources", withIntermediateDirectories: true)
        try """
            source: acme
            signature: {scheme: standard-webhooks, secret: env.ACME_SECRET}
            event_id: header("webhook-id")
            events:
              - when: body.kind == "hired"
                type: candidate.hired
                data: {application.id: string(body.application)}
            """.write(toFile: root + "/sources/acme.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.diagnostics.map(\.description), [])
        store = try SQLiteStore(path: root + "/hirewire.db")
        var limits = HTTPLimits()
        limits.maxBody = 4096
        let intake = Intake(project: project, store: store, env: ["ACME_SECRET": secret])
        server = try HTTPServer(port: 0, limits: limits, oversized: { intake.refusedOversized($0, limit: 4096) }, handler: intake.handle)
    }

    override func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    func post(_ path: String, _ body: String, id: String = "msg_1", timestamp: Date = Date(), contentType: String = "application/json",
              tamper: Bool = false) async throws -> (Int, String) {
        let ts = String(Int(timestamp.timeIntervalSince1970))
        var request = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(server.port)\(path)")))
        request.httpMethod = "POST"
        request.httpBody = Data((tamper ? body + " " : body).utf8)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue(id, forHTTPHeaderField: "webhook-id")
        request.setValue(ts, forHTTPHeaderField: "webhook-timestamp")
        request.setValue(StandardWebhooks.sign(secret: secret, id: id, timestamp: ts, body: Array(body.utf8)), forHTTPHeaderField: "webhook-signature")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func testEachDeliveryGetsItsStatusAndOnlyGoodOnesAreStored() async throws {
        let body = #"{"kind": "hired", "application": 42}"#
        let (accepted, text) = try await post("/hooks/acme", body)
        XCTAssertEqual(accepted, 202)
        XCTAssertEqual(text, #"{"duplicate":false,"id":"msg_1"}"#)
        let (replayed, again) = try await post("/hooks/acme", body)
        XCTAssertEqual(replayed, 200)
        XCTAssertEqual(again, #"{"duplicate":true,"id":"msg_1"}"#)
        let (tampered, _) = try await post("/hooks/acme", body, id: "msg_2", tamper: true)
        XCTAssertEqual(tampered, 401)
        let (stale, staleText) = try await post("/hooks/acme", body, id: "msg_3", timestamp: Date().addingTimeInterval(-600))
        XCTAssertEqual(stale, 401)
        XCTAssertTrue(staleText.contains("tolerance"), staleText)
        let (wrongType, _) = try await post("/hooks/acme", body, id: "msg_4", contentType: "text/plain")
        XCTAssertEqual(wrongType, 415)
        // A type that only begins like JSON's is not JSON.
        let (lookalike, _) = try await post("/hooks/acme", body, id: "msg_4b", contentType: "application/jsonx")
        XCTAssertEqual(lookalike, 415)
        let (notJSON, _) = try await post("/hooks/acme", "kind=hired", id: "msg_5")
        XCTAssertEqual(notJSON, 400)
        let (unknown, _) = try await post("/hooks/nope", body, id: "msg_6")
        XCTAssertEqual(unknown, 404)
        // A name with a quote and a line feed in it (%22, %0A) cannot break the metrics page.
        let (odd, _) = try await post("/hooks/a%22b%0Ax", body, id: "msg_6b")
        XCTAssertEqual(odd, 404)
        let (huge, _) = try await post("/hooks/acme", "{\"pad\": \"" + String(repeating: "x", count: 5000) + "\"}", id: "msg_7")
        XCTAssertEqual(huge, 413)

        let stored = try store.deliveries(limit: 10)
        XCTAssertEqual(stored.map(\.eventId), ["msg_1"])
        XCTAssertEqual(String(decoding: stored.first?.body ?? [], as: UTF8.self), body)
        XCTAssertEqual(stored.first?.headers["webhook-id"], "msg_1")
        let refused = try store.rejections(limit: 10).map(\.status)
        // The 413 too, though the HTTP server answered it without reading the body.
        XCTAssertEqual(refused.sorted(), [400, 401, 401, 404, 404, 413, 415, 415])
        XCTAssertTrue(try store.rejections(limit: 10).contains { $0.source == "a\"b?x" }, "control characters are not stored")
        XCTAssertEqual(try store.rejections(limit: 10).first { $0.status == 413 }?.reason, "body over 4096 bytes")
        // Each with the caller's address from the socket (it was "-" unless a header claimed one).
        XCTAssertEqual(Set(try store.rejections(limit: 10).map(\.peer)), ["127.0.0.1"])

        let (status, metrics) = try await get("/metrics")
        XCTAssertEqual(status, 200)
        XCTAssertTrue(metrics.contains("hirewire_requests_total{source=\"acme\",status=\"202\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("hirewire_requests_total{source=\"acme\",status=\"401\"} 2\n"), metrics)
        XCTAssertTrue(metrics.contains("hirewire_requests_total{source=\"acme\",status=\"413\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("hirewire_duplicates_total{source=\"acme\"} 1\n"), metrics)
        // Sources the project does not have are one series, whatever name was tried.
        XCTAssertTrue(metrics.contains("hirewire_requests_total{source=\"unknown\",status=\"404\"} 2\n"), metrics)
        XCTAssertFalse(metrics.contains("nope"), metrics)
        for line in metrics.split(separator: "\n") where !line.hasPrefix("#") {
            XCTAssertNotNil(line.range(of: #"^[a-z_]+(\{.*\})? [0-9.e+-]+$"#, options: .regularExpression), "not a sample line: \(line)")
        }
        XCTAssertTrue(metrics.contains("hirewire_signature_failures_total{source=\"acme\"} 2\n"), metrics)
        XCTAssertTrue(metrics.contains("# TYPE hirewire_deliveries_unmapped gauge\nhirewire_deliveries_unmapped 1\n"), metrics)
    }

    /// `POST /events` refuses a canonical event whose `occurred_at` does not read or whose data
    /// is not an object (400), instead of storing it with the time it arrived.
    func testCanonicalEventsWithABadTimeOrDataAreRefused() async throws {
        let project = ProjectCompiler.compile(root: root)
        let intake = Intake(project: project, store: store, env: ["HIREWIRE_EVENTS_TOKEN": "t"])
        let events = try HTTPServer(port: 0, limits: HTTPLimits(), handler: intake.handle)
        defer { events.stop() }
        func send(_ body: String, authorization: String = "Bearer t") async throws -> Int {
            var request = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(events.port)/events")))
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        let garbage = try await send(#"{"id": "e1", "type": "candidate.hired", "occurred_at": "garbage", "data": {"application": {"id": "a1"}}}"#)
        XCTAssertEqual(garbage, 400)
        let list = try await send(#"{"id": "e2", "type": "candidate.hired", "occurred_at": "2026-03-02T14:00:00Z", "data": []}"#)
        XCTAssertEqual(list, 400)
        let good = try await send(#"{"id": "e3", "type": "candidate.hired", "occurred_at": "2026-03-02T14:00:00+01:00", "data": {"application": {"id": "a1"}}}"#)
        XCTAssertEqual(good, 202)
        let unstamped = try await send(#"{"id": "e4", "type": "candidate.hired", "data": {"application": {"id": "a1"}}}"#)
        XCTAssertEqual(unstamped, 202, "no occurred_at: the time it was received")
        let lowercase = try await send(#"{"id": "e5", "type": "candidate.hired", "data": {"application": {"id": "a1"}}}"#, authorization: "bearer t")
        XCTAssertEqual(lowercase, 202, "the scheme's name is case-insensitive")
        let wrong = try await send(#"{"id": "e6", "type": "candidate.hired", "data": {"application": {"id": "a1"}}}"#, authorization: "bearer tt")
        XCTAssertEqual(wrong, 401)
        XCTAssertEqual(try store.rejections(limit: 10).map(\.reason).filter { $0.contains("occurred_at") || $0.contains("data must") }.count, 2)
        // A header's claim is kept as a claim, after the socket's address.
        var spoofed = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(events.port)/events")))
        spoofed.httpMethod = "POST"
        spoofed.setValue("203.0.113.9", forHTTPHeaderField: "X-Forwarded-For")
        _ = try await URLSession.shared.data(for: spoofed)
        XCTAssertEqual(try store.rejections(limit: 1).first?.peer, "127.0.0.1 (forwarded for 203.0.113.9)")
    }

    func get(_ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: "http://127.0.0.1:\(server.port)\(path)")))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func testBackpressureAnswers503WithRetryAfter() async throws {
        server.stop()
        let intake = Intake(project: ProjectCompiler.compile(root: root), store: store, env: ["ACME_SECRET": secret], maxPending: 2)
        server = try HTTPServer(port: 0, handler: intake.handle)
        for (i, expected) in [202, 202, 503].enumerated() {
            let (status, _) = try await post("/hooks/acme", #"{"kind": "hired", "application": 1}"#, id: "m\(i)")
            XCTAssertEqual(status, expected, "delivery \(i)")
        }
        XCTAssertEqual(try store.deliveries(limit: 10).count, 2)
    }

    func testUnsetSecretRefusesEverything() async throws {
        server.stop()
        let project = ProjectCompiler.compile(root: root)
        let intake = Intake(project: project, store: store, env: [:])
        server = try HTTPServer(port: 0, handler: intake.handle)
        let (status, _) = try await post("/hooks/acme", #"{"kind": "hired", "application": 1}"#)
        XCTAssertEqual(status, 401)
        XCTAssertEqual(try store.deliveries(limit: 10).count, 0)
    }
}
