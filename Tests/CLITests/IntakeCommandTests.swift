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
    }
}
