import Foundation
import XCTest
@testable import HirewireIntake

/// HTTPS through libmicrohttpd's GnuTLS support, with a certificate made by the openssl tool and
/// curl as the client.
final class TLSTests: XCTestCase {
    func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testHTTPSWithTLS12OrNewerOnly() throws {
        let dir = NSTemporaryDirectory() + "hirewire-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (made, _) = try run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
                                            "-days", "1", "-subj", "/CN=127.0.0.1"])
        guard made == 0 else { throw XCTSkip("openssl could not make a certificate") }
        let key = try String(contentsOfFile: dir + "/key.pem", encoding: .utf8)
        let cert = try String(contentsOfFile: dir + "/cert.pem", encoding: .utf8)
        let server = try HTTPServer(port: 0, tls: (key, cert)) { _ in .json(200, #"{"secure": true}"#) }
        defer { server.stop() }
        let (ok, body) = try run("curl", ["-sk", "--max-time", "5", "https://127.0.0.1:\(server.port)/healthz"])
        XCTAssertEqual(ok, 0)
        XCTAssertEqual(body, #"{"secure": true}"#)
        let (old, _) = try run("curl", ["-sk", "--max-time", "5", "--tls-max", "1.1", "https://127.0.0.1:\(server.port)/healthz"])
        XCTAssertNotEqual(old, 0, "TLS 1.1 must be refused")
        let (plain, _) = try run("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(server.port)/healthz"])
        XCTAssertNotEqual(plain, 0, "plain HTTP must not be served on a TLS port")
        XCTAssertThrowsError(try HTTPServer(port: 0, tls: ("not a key", "not a cert")) { _ in .json(200, "{}") })
    }
}
