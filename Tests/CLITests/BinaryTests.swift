import Foundation
import HirewireIntake
import XCTest

/// Runs the real `hirewire` executable, as a user would.
final class BinaryTests: XCTestCase {
    func run(_ arguments: [String], in directory: String = repoRoot, executable: String = "hirewire") throws -> (code: Int32, out: String, err: String) {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var binary = products.appendingPathComponent(executable)
        if !FileManager.default.fileExists(atPath: binary.path) {
            binary = URL(fileURLWithPath: repoRoot + "/.build/debug/" + executable)
        }
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(executable) executable not built at \(binary.path)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// docs/embedding.md's program: its own store, its own clock, the offer journey's follow-up
    /// on Monday 09:00 (36h after Friday 16:00 falls on Sunday night) and the call task a day later.
    func testEmbeddingExampleRunsAsDocumented() throws {
        let result = try run([repoRoot], in: NSTemporaryDirectory(), executable: "hirewire-embed-example")
        XCTAssertEqual(result.code, 0, result.err)
        let lines = result.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "submitted: new")
        let actions = lines.dropFirst().map { $0.split(separator: " ", maxSplits: 3).map(String.init) }
        XCTAssertEqual(actions.map { $0.prefix(2).joined(separator: " ") },
                       ["2026-03-06T16:00:00Z email", "2026-03-09T09:00:00Z email", "2026-03-10T09:00:00Z task"], result.out)
        XCTAssertEqual(actions.last?.last, "Call Ada about the SRE offer")
        XCTAssertTrue(actions.allSatisfy { $0.count == 4 && $0[2].hasPrefix("jrn_") }, "each action carries its idempotency key")
    }

    /// A port already taken: serve exits 2, and what libmicrohttpd says about it comes as a JSON
    /// log line like every other, not as a raw line beside them.
    func testServeOnATakenPortLogsJSONAndExits2() throws {
        let taken = try HTTPServer(port: 0) { _ in .json(200, "{}") }
        defer { taken.stop() }
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let result = try run(["serve", "--port", String(taken.port)], in: project)
        XCTAssertEqual(result.code, 2, result.err)
        let lines = result.err.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.last, "error: cannot listen on port \(taken.port) (in use, or not allowed)")
        let logged = lines.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(logged.count, lines.count - 1, "every line before the error is JSON: \(result.err)")
        XCTAssertTrue(logged.contains { ($0["detail"] as? String)?.contains("Address already in use") == true }, result.err)
    }

    func testExitCodesOfTheRealBinary() throws {
        // No command is a usage error; asking for help is not.
        let bare = try run([])
        XCTAssertEqual(bare.code, 2)
        XCTAssertTrue(bare.err.hasPrefix("error: missing command\n"), bare.err)
        XCTAssertTrue(bare.err.contains("SUBCOMMANDS:"), "the commands are listed: \(bare.err)")
        XCTAssertEqual(try run(["--project", "."]).code, 2)
        let help = try run(["--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.out.contains("SUBCOMMANDS:"), help.out)
        let ok = try run(["validate"])
        XCTAssertEqual(ok.code, 0, ok.err)
        XCTAssertEqual(ok.out, "0 errors, 0 warnings\n")
        let graph = try run(["graph", "flows/interview-scheduling.yaml"])
        XCTAssertEqual(graph.code, 0)
        XCTAssertTrue(graph.out.contains("scheduled --> cancelled: interview.cancelled"), graph.out)
        let usage = try run(["validate", "--format", "yaml"])
        XCTAssertEqual(usage.code, 2)
        XCTAssertTrue(usage.err.contains("expected one of text, json"))
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/interview-scheduling.yaml", replacing: "interview.cancelled: cancelled", with: "interview.cancelled: canceled")
        let broken = try run(["validate"], in: project)
        XCTAssertEqual(broken.code, 1)
        XCTAssertTrue(broken.out.contains("unknown state 'canceled' (did you mean 'cancelled'?) [unknown-state]"), broken.out)
    }
}
