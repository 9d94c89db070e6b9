import Foundation
import XCTest
@testable import HirewireIntake

/// The Standard Webhooks conformance vectors (Tests/IntakeTests/Fixtures), run as they are.
final class StandardWebhooksTests: XCTestCase {
    func testConformanceVectors() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/standard-webhooks-vectors", withExtension: "json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let tolerance = try XCTUnwrap(root["tolerance_seconds"] as? Double)
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let scheme = StandardWebhooks(secrets: [c["secret"] as? String ?? ""], tolerance: tolerance)
            let now = Date(timeIntervalSince1970: (c["now"] as? Double) ?? 0)
            var valid = true
            do {
                try scheme.verify(id: c["webhook_id"] as? String, timestamp: c["webhook_timestamp"] as? String,
                                  signature: c["webhook_signature"] as? String, body: Array((c["payload"] as? String ?? "").utf8), now: now)
            } catch {
                valid = false
            }
            XCTAssertEqual(valid, c["valid"] as? Bool, name)
        }
    }

    func testSignRoundTripsAndRotation() throws {
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = try XCTUnwrap(StandardWebhooks.sign(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", body: body))
        XCTAssertEqual(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let rotating = StandardWebhooks(secrets: ["whsec_YW5vdGhlciBzZWNyZXQ=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        XCTAssertNoThrow(try rotating.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body,
                                             now: Date(timeIntervalSince1970: 1_614_265_330)))
        XCTAssertThrowsError(try rotating.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body,
                                                 now: Date(timeIntervalSince1970: 1_614_265_330 + 301))) { error in
            XCTAssertTrue("\(error)".contains("301s old"), "\(error)")
        }
    }

    func testHashAndCompare() {
        XCTAssertEqual(Crypto.sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Crypto.hex(Crypto.hmacSHA256(key: Array("key".utf8), data: Array("The quick brown fox jumps over the lazy dog".utf8))),
                       "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        XCTAssertTrue(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
