import Foundation
import XCTest
@testable import HirewireCLI

final class IntakeCommandTests: XCTestCase {
    func testSignPrintsStandardWebhooksHeaders() async throws {
        let file = NSTemporaryDirectory() + "body-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try #"{"test": 2432232314}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let r = await hirewire(["sign", "--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "--timestamp", "1614265330", file])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, """
            webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
            webhook-timestamp: 1614265330
            webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=

            """)
        let ashby = await hirewire(["sign", "--scheme", "ashby", "--secret", "Jefe", file])
        XCTAssertTrue(ashby.out.hasPrefix("Ashby-Signature: sha256="), ashby.out)
        let bad = await hirewire(["sign", "--scheme", "standard-webhooks", "--secret", "not base64!", file])
        XCTAssertEqual(bad.code, 2)
        // A timestamp that is no whole number of seconds in range is a usage error (nan crashed).
        for timestamp in ["nan", "1e300", "-1e300", "1.5", "-5"] {
            let odd = await hirewire(["sign", "--scheme", "greenhouse", "--secret", "s", "--timestamp=\(timestamp)", file])
            XCTAssertEqual(odd.code, 2, "\(timestamp): \(odd.out)")
        }
    }
    /// Lever signs inside the body: `sign --scheme lever` prints the body with its signature.
    func testSignForLeverPrintsTheSignedBody() async throws {
        let file = NSTemporaryDirectory() + "lever-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try #"{"token": "t0k", "triggeredAt": 1614265330000, "event": "candidateHired"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let r = await hirewire(["sign", "--scheme", "lever", "--secret", "lever-secret", file])
        XCTAssertEqual(r.code, 0, r.err)
        let signed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        // HMAC-SHA256("lever-secret", "t0k" + "1614265330000"), as openssl computes it.
        XCTAssertEqual(signed["signature"] as? String, "ae5b9586e883b50db977321c2e985b29c55e817477f8253800e9a05a4a89ad51")
        XCTAssertEqual(signed["event"] as? String, "candidateHired")
    }

    /// A sender without its source's secret cannot sign: an environment error naming the variable,
    /// not an unsigned request that the server refuses.
    func testSendWithoutTheSourcesSecretNamesIt() async throws {
        let saved = ProcessInfo.processInfo.environment["GREENHOUSE_SECRET"]
        unsetenv("GREENHOUSE_SECRET")
        defer { if let saved { setenv("GREENHOUSE_SECRET", saved, 1) } }
        let r = await hirewire(["send", "greenhouse", "examples/payloads/greenhouse/new_candidate_application.json", "--url", "http://127.0.0.1:9/hooks/greenhouse"])
        XCTAssertEqual(r.code, 2, r.out + r.err)
        XCTAssertTrue(r.err.contains("set GREENHOUSE_SECRET"), r.err)
    }
}
