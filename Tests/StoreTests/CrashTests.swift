import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// Crash safety, tested: the soak process is killed with SIGKILL at random moments while events
/// and timers flow, restarted, and finally run to the end. The store must then hold exactly
/// what an uninterrupted run produces: every event's effects once, every timer fired once.
final class CrashTests: XCTestCase {
    static let repo = JourneyEngineTests.repo

    func soakBinary() throws -> String {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [products.appendingPathComponent("hirewire-soak").path, Self.repo + "/.build/debug/hirewire-soak"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw XCTSkip("hirewire-soak is not built")
    }

    func launch(_ binary: String, db: String, iterations: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--project", Self.repo, "--db", db, "--iterations", String(iterations)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// What a finished store holds, independent of journey ids.
    struct Summary: Equatable {
        var outbox: [String: Int]
        var keysUnique: Bool
        var journeys: [String: String]
        var firedPerTimer: Int
        var pendingInbox: Int
        var pendingTimers: Int
    }

    func summarize(_ db: String, iterations: Int) throws -> Summary {
        let store = try SQLiteStore(path: db)
        let outbox = try store.outbox(journey: nil)
        var counts: [String: Int] = [:]
        for action in outbox { counts[action.template ?? action.connector, default: 0] += 1 }
        var journeys: [String: String] = [:]
        var maxFired = 0
        for i in 0..<iterations {
            for flow in ["offer-nurture", "application-received", "assessment-segmentation", "interview-scheduling"] {
                for j in try store.journeys(flow: flow, key: "a\(i)") {
                    journeys["\(flow)/a\(i)/\(j.id == "" ? "" : "")"] = "\(j.state):\(j.outcome ?? "active")"
                    var fired: [String: Int] = [:]
                    for entry in try store.timeline(journey: j.id) where entry.kind == "timer_fired" {
                        fired["\(entry.fields["timer"]?.displayString ?? "")@\(entry.fields["due"]?.displayString ?? "")", default: 0] += 1
                    }
                    maxFired = max(maxFired, fired.values.max() ?? 0)
                }
            }
        }
        return Summary(outbox: counts, keysUnique: Set(outbox.map(\.idempotencyKey)).count == outbox.count, journeys: journeys,
                       firedPerTimer: maxFired, pendingInbox: try store.pendingInbox(limit: 10).count,
                       pendingTimers: try store.timers(dueBefore: nil).count)
    }

    func testKillNineLosesNothingAndRepeatsNothing() throws {
        let binary = try soakBinary()
        let folder = NSTemporaryDirectory() + "hirewire-crash-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let iterations = 240
        // The reference: one uninterrupted run.
        let clean = folder + "/clean.db"
        let started = Date()
        let reference = try launch(binary, db: clean, iterations: iterations)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        // Kills land within the time an uninterrupted run takes on this machine today (a fixed
        // window let a fast machine finish every run before its kill, and the test proved nothing).
        let duration = max(0.1, Date().timeIntervalSince(started))
        // The same load, killed at random moments.
        let crashed = folder + "/crashed.db"
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<6 {
            let process = try launch(binary, db: crashed, iterations: iterations)
            Thread.sleep(forTimeInterval: Double.random(in: (duration * 0.05)...(duration * 0.6), using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        let final = try launch(binary, db: crashed, iterations: iterations)
        final.waitUntilExit()
        XCTAssertEqual(final.terminationStatus, 0)

        let expected = try summarize(clean, iterations: iterations)
        let actual = try summarize(crashed, iterations: iterations)
        XCTAssertGreaterThan(kills, 0, "the soak finished before any kill; the test proved nothing")
        // The reference did real work: offers went out and timers drove journeys on.
        XCTAssertGreaterThan(expected.outbox["offer-next-steps"] ?? 0, iterations / 2)
        XCTAssertGreaterThan(expected.outbox["task"] ?? 0, 0)
        XCTAssertEqual(expected.journeys.count, iterations)
        XCTAssertEqual(actual.outbox, expected.outbox)
        XCTAssertTrue(actual.keysUnique)
        XCTAssertEqual(actual.journeys, expected.journeys)
        XCTAssertEqual(actual.firedPerTimer, 1)
        XCTAssertEqual(actual.pendingInbox, 0)
        XCTAssertEqual(actual.pendingTimers, expected.pendingTimers)
    }
}
