import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireIntake
import HirewireStore
import HirewireTestSupport

/// Every kind of bad delivery against the real `serve` binary on 127.0.0.1: each gets its status
/// and nothing wrong is stored.
final class ServeIntakeTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func testEachBadDeliveryGetsItsStatusAndNothingWrongIsStored() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try """
            source: partner
            signature: {scheme: standard-webhooks, secret: env.PARTNER_SECRET}
            event_id: header("webhook-id")
            events:
              - when: body.kind == "hired"
                type: candidate.hired
                data: {application.id: string(body.application)}
            """.write(toFile: project + "/sources/partner.yaml", atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: project + "/hirewire.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "server: {port: 8080, max_body: 1MiB}", with: "server: {port: 8080, max_body: 64KiB, idle_timeout: 1s}")
        try config.write(toFile: project + "/hirewire.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(project: project, environment: ["PARTNER_SECRET": secret])
        let port = server.port

        func post(_ body: String, path: String = "/hooks/partner", id: String, age: TimeInterval = 0, tamper: Bool = false,
                  contentType: String = "application/json") async throws -> Int {
            let timestamp = String(Int(Date().timeIntervalSince1970 - age))
            let signature = StandardWebhooks.sign(secret: secret, id: id, timestamp: timestamp, body: Array(body.utf8)) ?? ""
            var request = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)\(path)")))
            request.httpMethod = "POST"
            request.httpBody = Data((tamper ? body.replacingOccurrences(of: "1", with: "2") : body).utf8)
            // A new connection per request: with idle_timeout 1s the server closes pooled keep-alive
            // connections, and a POST on a connection it just closed fails before reaching it.
            for (name, value) in [("Content-Type", contentType), ("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature),
                                  ("Connection", "close")] {
                request.setValue(value, forHTTPHeaderField: name)
            }
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        let valid = #"{"kind": "hired", "application": 1}"#
        let validStatus = try await post(valid, id: "msg_valid")
        XCTAssertEqual(validStatus, 202, "valid")
        let replayed = try await post(valid, id: "msg_valid")
        XCTAssertEqual(replayed, 200, "replayed")
        let tampered = try await post(valid, id: "msg_tampered", tamper: true)
        XCTAssertEqual(tampered, 401, "tampered")
        let stale = try await post(valid, id: "msg_stale", age: 600)
        XCTAssertEqual(stale, 401, "stale timestamp")
        let oversized = try await post(#"{"kind": "hired", "pad": ""# + String(repeating: "x", count: 70_000) + #""}"#, id: "msg_big")
        XCTAssertEqual(oversized, 413, "oversized")
        let notJSON = try await post("kind=hired", id: "msg_form")
        XCTAssertEqual(notJSON, 400, "non-JSON")
        let wrongType = try await post(valid, id: "msg_text", contentType: "text/plain")
        XCTAssertEqual(wrongType, 415, "wrong content type")
        let unknown = try await post(valid, path: "/hooks/nobody", id: "msg_unknown")
        XCTAssertEqual(unknown, 404, "unknown source")

        // A slow-loris client: half a request, then silence; the server hangs up after idle_timeout.
        let loris = slowLorisClient(port: UInt16(port))
        XCTAssertTrue(loris.closed, "the server closes the idle connection")
        XCTAssertLessThan(loris.seconds, 4)
        // The server still answers others.
        let after = try await post(valid, id: "msg_after")
        XCTAssertEqual(after, 202)

        let (status, log) = server.stop()
        XCTAssertEqual(status, 0, log)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        XCTAssertEqual(Set(try store.deliveries(limit: 100).map(\.eventId)), ["msg_valid", "msg_after"], "only the valid deliveries are stored")
        let refusals = try store.rejections(limit: 100)
        // The oversized body too, answered by the HTTP server before intake saw it: stored and logged.
        XCTAssertEqual(refusals.map(\.status).sorted(), [400, 401, 401, 404, 413, 415])
        XCTAssertTrue(log.contains(#""status":413"#), log)
        XCTAssertTrue(refusals.contains { $0.reason.contains("timestamp") }, "\(refusals)")
    }
}
