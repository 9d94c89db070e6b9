import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import HirewireCLI

/// The repository root (the bundled project).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs `hirewire ARGS` in-process in `directory`, capturing its output.
func hirewire(_ arguments: [String], in directory: String = repoRoot, input: String = "") async -> (code: Int32, out: String, err: String) {
    let capture = CapturedOutput()
    let code = await HirewireMain.run(arguments: arguments, io: capture.io(input: Data(input.utf8), workingDirectory: directory))
    return (code, capture.out, capture.err)
}

/// A copy of the bundled project in a temporary folder, to edit.
func copyOfBundledProject() throws -> String {
    let target = NSTemporaryDirectory() + "hirewire-cli-" + UUID().uuidString
    let fm = FileManager.default
    try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
    for item in ["flows", "templates", "sources", "hirewire.yaml", "examples", "schemas"] {
        try fm.copyItem(atPath: repoRoot + "/" + item, toPath: target + "/" + item)
    }
    return target
}

/// An IANA zone where it is now between 10:00 and 18:00, so that a test on the real clock is
/// outside every bundled flow's quiet hours (they end by 08:00 and start at 20:00 or later).
func zoneInDaytimeNow(_ now: Date = Date()) -> String {
    let zones = ["America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "America/Los_Angeles",
                 "Pacific/Honolulu", "America/Sao_Paulo", "Europe/Moscow", "Asia/Dubai", "Australia/Sydney", "Asia/Bangkok"]
    for name in zones {
        guard let zone = TimeZone(identifier: name) else { continue }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        if (10..<18).contains(calendar.component(.hour, from: now)) { return name }
    }
    return "America/New_York"
}

/// Makes a project's default zone (the zone of a candidate without one) a zone in daytime now.
/// Tests that wait for a candidate email to go out on the real clock need it: in the evening
/// of the bundled America/New_York the email is rightly held back until morning.
func setDaytimeDefaultZone(_ project: String) throws {
    try edit(project + "/hirewire.yaml", replacing: "default_timezone: America/New_York", with: "default_timezone: " + zoneInDaytimeNow())
}

/// Replaces the first occurrence of `old` in a file; fails the test when it is absent.
func edit(_ path: String, replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let range = text.range(of: old) else {
        XCTFail("'\(old)' not in \(path)", file: file, line: line)
        return
    }
    try text.replacingCharacters(in: range, with: new).write(toFile: path, atomically: true, encoding: .utf8)
}

/// The 1-based line and column of the first occurrence of `needle` in a file.
func position(of needle: String, in path: String) throws -> (line: Int, column: Int)? {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    for (i, line) in text.components(separatedBy: "\n").enumerated() {
        if let r = line.range(of: needle) { return (i + 1, line.distance(from: line.startIndex, to: r.lowerBound) + 1) }
    }
    return nil
}

/// The real `hirewire serve` binary on 127.0.0.1 (port chosen by the system), for end-to-end tests.
final class ServerProcess {
    let process = Process()
    let errors = Pipe()
    var log = Data()
    private(set) var port = 0

    /// The built binary next to the test bundle (nil when it was not built).
    static var binary: String? {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let candidates = [products + "/hirewire", repoRoot + "/.build/debug/hirewire"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts `serve` in `project` with `environment` added, and waits for its first log line.
    init(project: String, environment: [String: String] = [:], arguments: [String] = []) throws {
        guard let binary = Self.binary else { throw ServerStartError(message: "hirewire is not built") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: project)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardError = errors
        try process.run()
        for _ in 0..<200 where port == 0 {
            log += errors.fileHandleForReading.availableData
            for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let p = object["port"] as? Int { port = p }
            }
        }
        if port == 0 {
            process.terminate()
            throw ServerStartError(message: "serve did not start: \(String(decoding: log, as: UTF8.self))")
        }
    }

    /// SIGTERM, then waits; returns the exit status and the whole log.
    func stop() -> (status: Int32, log: String) {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        log += errors.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: log, as: UTF8.self))
    }

    /// SIGKILL: no chance to flush anything.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct ServerStartError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// POSTs a canonical event to a running server's `/events` (with `token` as the bearer token,
/// if any); returns the HTTP status.
func postEvent(_ body: String, port: Int, token: String?) async throws -> Int {
    guard let url = URL(string: "http://127.0.0.1:\(port)/events") else { return 0 }
    var request = URLRequest(url: url)
    request.httpMethod = "POST"
    request.httpBody = Data(body.utf8)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let (_, response) = try await URLSession.shared.data(for: request)
    return (response as? HTTPURLResponse)?.statusCode ?? 0
}
