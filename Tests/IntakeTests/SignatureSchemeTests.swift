import Foundation
import XCTest
@testable import HirewireIntake

/// Vendor presets and the configurable HMAC scheme, checked against RFC 4231's HMAC-SHA256
/// test case 2 (key "Jefe"), so the expected digests come from outside this code.
final class SignatureSchemeTests: XCTestCase {
    let body = Array("what do ya want for nothing?".utf8)
    let digest = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    let now = Date(timeIntervalSince1970: 1_772_000_000)

    func failure(_ scheme: SignatureScheme, _ headers: [String: String], body: [UInt8]? = nil) -> String? {
        do {
            try scheme.verify(headers: headers, body: body ?? self.body, now: now)
            return nil
        } catch {
            return error.reason
        }
    }

    func testVendorPresets() {
        XCTAssertNil(failure(.greenhouse(["Jefe"]), ["signature": "sha256 \(digest)"]))
        XCTAssertNil(failure(.ashby(["Jefe"]), ["ashby-signature": "sha256=\(digest)"]))
        XCTAssertNil(failure(.workable(["Jefe"]), ["x-workable-signature": digest]))
        XCTAssertNil(failure(.workable(["old", "Jefe"]), ["x-workable-signature": digest.uppercased()]))
        XCTAssertEqual(failure(.greenhouse(["Jefe"]), [:]), "missing Signature header")
        XCTAssertEqual(failure(.ashby(["Jefe"]), ["ashby-signature": "sha1=\(digest)"]), "Ashby-Signature does not start with 'sha256='")
        XCTAssertEqual(failure(.greenhouse(["Jefe"]), ["signature": "sha256 \(digest)"], body: body + [32]), "Signature does not match an active secret")
        XCTAssertNotNil(failure(.workable(["jefe"]), ["x-workable-signature": digest]))
    }

    func testLeverSignsTokenAndTriggeredAt() {
        // HMAC-SHA256("what do ya want for nothing?") under "Jefe", split across token and triggeredAt.
        let delivery = Array(#"{"token": "what do ya want for ", "triggeredAt": "nothing?", "signature": "\#(digest)", "event": "candidateStageChange"}"#.utf8)
        XCTAssertNil(failure(.lever(secrets: ["Jefe"]), [:], body: delivery))
        XCTAssertNotNil(failure(.lever(secrets: ["other"]), [:], body: delivery))
        XCTAssertNotNil(failure(.lever(secrets: ["Jefe"]), [:], body: Array(#"{"event": "x"}"#.utf8)))
    }

    func testTimestampedBase64Scheme() {
        let scheme = HMACSignature(secrets: ["Jefe"], header: "X-Sig", prefix: "v1=", encoding: .base64, timestampHeader: "X-Time", tolerance: 300)
        let header = scheme.sign(secret: "Jefe", body: body, timestamp: "1772000000")
        XCTAssertTrue(header.hasPrefix("v1="))
        XCTAssertNil(failure(.hmac(scheme), ["x-sig": header, "x-time": "1772000000"]))
        XCTAssertEqual(failure(.hmac(scheme), ["x-sig": header, "x-time": "1771999000"]), "X-Time is outside the 300s tolerance")
        XCTAssertNotNil(failure(.hmac(scheme), ["x-sig": header, "x-time": "1772000001"]))
        XCTAssertEqual(failure(.hmac(scheme), ["x-sig": "v1=%%%", "x-time": "1772000000"]), "X-Sig is not base64")
    }
}
