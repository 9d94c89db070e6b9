import Foundation
import XCTest

/// Runs the real `hirewire` executable, as a user would.
final class BinaryTests: XCTestCase {
    func run(_ arguments: [String], in directory: String = repoRoot) throws -> (code: Int32, out: String, err: String) {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var binary = products.appendingPathComponent("hirewire")
        if !FileManager.default.fileExists(atPath: binary.path) {
            binary = URL(fileURLWithPath: repoRoot + "/.build/debug/hirewire")
        }
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("hirewire executable not built at \(binary.path)")
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

    func testExitCodesOfTheRealBinary() throws {
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
