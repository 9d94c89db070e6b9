import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import XCTest
import HirewireStore

/// Hot reload of a running `hirewire serve`: a good edit is live at once, a broken one is
/// refused with its diagnostics and the old version keeps serving.
final class ReloadTests: XCTestCase {
    final class LogBuffer: Sendable {
        let text = Mutex("")
        func wait(for needle: String, after offset: Int = 0, seconds: Double = 10) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if text.withLock({ String($0.dropFirst(offset)).contains(needle) }) { return true }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            return false
        }
        var count: Int { text.withLock { $0.count } }
    }

    func testGoodEditsGoLiveAndBrokenOnesAreRefused() async throws {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let binary = FileManager.default.isExecutableFile(atPath: products + "/hirewire") ? products + "/hirewire" : repoRoot + "/.build/debug/hirewire"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("hirewire not built") }
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0"]
        process.currentDirectoryURL = URL(fileURLWithPath: project)
        var environment = ProcessInfo.processInfo.environment
        environment["HIREWIRE_EVENTS_TOKEN"] = "t"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        let log = LogBuffer()
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            log.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let serving = await log.wait(for: "\"msg\":\"serving\"")
        XCTAssertTrue(serving)
        let first = log.text.withLock { $0 }.split(separator: "\n").first.map(String.init) ?? ""
        let port = (try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])?["port"] as? Int ?? 0
        XCTAssertGreaterThan(port, 0)
        let template = try String(contentsOfFile: repoRoot + "/examples/events/offer-extended.json", encoding: .utf8)
        func offer(_ application: String) async throws -> Int {
            let body = template.replacingOccurrences(of: "\"a1\"", with: "\"\(application)\"").replacingOccurrences(of: "evt_01HOFFEREXT0000000000001", with: "evt-\(application)")
            return try await postEvent(body, port: port, token: "t")
        }
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        func version(_ key: String) async throws -> String? {
            for _ in 0..<50 {
                if let v = try store.activeJourney(flow: "offer-nurture", key: key)?.version { return v }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            return nil
        }
        let firstStatus = try await offer("a1")
        XCTAssertEqual(firstStatus, 202)
        let v1 = try await version("a1")
        XCTAssertNotNil(v1)

        // A good edit: live at once.
        let mark = log.count
        try edit(project + "/flows/offer-nurture.yaml", replacing: "between: [36h, 48h]", with: "between: [24h, 36h]")
        let reloaded = await log.wait(for: "\"msg\":\"reloaded\"", after: mark)
        XCTAssertTrue(reloaded, log.text.withLock { $0 })
        _ = try await offer("a2")
        let v2 = try await version("a2")
        XCTAssertNotNil(v2)
        XCTAssertNotEqual(v1, v2)
        let still = try await version("a1")
        XCTAssertEqual(still, v1, "the running journey stays on its version")

        // A broken edit: refused with its diagnostics; the last good version keeps serving.
        let mark2 = log.count
        try edit(project + "/flows/offer-nurture.yaml", replacing: "goto: follow_up", with: "goto: folow_up")
        let refused = await log.wait(for: "reload refused; the running version keeps serving", after: mark2)
        XCTAssertTrue(refused, log.text.withLock { $0 })
        XCTAssertTrue(log.text.withLock { $0 }.contains("unknown state 'folow_up'"))
        _ = try await offer("a3")
        let v3 = try await version("a3")
        XCTAssertEqual(v3, v2)

        // A stale flow test does not hold a good flow back: `hirewire test` reports it, serving goes on.
        let mark3 = log.count
        try edit(project + "/flows/tests/offer-withdrawn.test.yaml", replacing: "of: [email,", with: "of: [emali,")
        try edit(project + "/flows/offer-nurture.yaml", replacing: "goto: folow_up", with: "goto: follow_up")
        let back = await log.wait(for: "\"msg\":\"reloaded\"", after: mark3)
        XCTAssertTrue(back, log.text.withLock { String($0.dropFirst(mark3)) })
        _ = try await offer("a4")
        let v4 = try await version("a4")
        XCTAssertEqual(v4, v2)
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
