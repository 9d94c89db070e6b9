import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

final class StoreCommandTests: XCTestCase {
    /// A candidate without a time zone: the fallback line says the value was null, not blank.
    func testInspectSpellsOutANullField() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: SQLiteStore(path: project + "/.hirewire/hirewire.db"))
        let now = Timestamp.parse("2030-01-07T12:00:00Z") ?? Date()
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, source: "test", data: [
            "candidate": ["id": "c1", "first_name": "Ada", "email": "ada@example.com"], "application": ["id": "a2"],
            "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"], "offer": ["id": "o1", "tier": "B"],
        ])], now: now)
        try engine.processInbox(now: now)
        let inspect = await hirewire(["inspect", "offer-nurture/a2"], in: project)
        XCTAssertEqual(inspect.code, 0, inspect.err)
        let line = inspect.out.split(separator: "\n").first { $0.contains("bad_timezone") && $0.contains("for=quiet hours") }
        XCTAssertTrue(line?.contains("value=null") == true, inspect.out)
    }

    func testTimersInspectAndCancelOnARealStore() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let compiled = ProjectCompiler.compile(root: project)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let engine = try JourneyEngine(project: compiled, store: store)
        // Noon on a weekday, outside quiet hours, so no candidate email is deferred.
        let now = Timestamp.parse("2030-01-07T12:00:00Z") ?? Date()
        let event = CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: now, source: "test", data: [
            "candidate": ["id": "c1", "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": "a1"], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
            "offer": ["id": "o1", "tier": "B", "expires_at": .string(Timestamp.format(now.addingTimeInterval(14 * 86400)))],
        ])
        _ = try engine.submit([event], now: now)
        try engine.processInbox(now: now)

        let timers = await hirewire(["timers"], in: project)
        XCTAssertEqual(timers.code, 0, timers.err)
        XCTAssertTrue(timers.out.contains("states.extended.after[0]"), timers.out)
        XCTAssertTrue(timers.out.contains("timeout"))
        let soon = await hirewire(["timers", "--due-before", "+1h"], in: project)
        XCTAssertFalse(soon.out.contains("timeout"), soon.out)

        let inspect = await hirewire(["inspect", "offer-nurture/a1"], in: project)
        XCTAssertEqual(inspect.code, 0, inspect.err)
        XCTAssertTrue(inspect.out.contains("state extended  active"), inspect.out)
        XCTAssertTrue(inspect.out.contains(" start "), inspect.out)
        XCTAssertTrue(inspect.out.contains("pending timers:"), inspect.out)

        // ONBOARDING_URL is unset here, so accepting the offer dead-letters the onboarding call.
        let accepted = CanonicalEvent(id: "e2", type: "offer.accepted", occurredAt: now, source: "test", data: ["application": ["id": "a1"], "offer": ["id": "o1"]])
        let other = CanonicalEvent(id: "e3", type: "offer.extended", occurredAt: now, source: "test", data: ["application": ["id": "a9"], "offer": ["id": "o9"]])
        _ = try engine.submit([accepted, other], now: now)
        try engine.processInbox(now: now)
        let dead = await hirewire(["dead-letters"], in: project)
        XCTAssertEqual(dead.code, 0, dead.err)
        XCTAssertTrue(dead.out.contains("offer-nurture/a1 states.accepted.do[0]"), dead.out)
        XCTAssertTrue(dead.out.contains("offer-nurture offer.extended e3  missing candidate.email"), dead.out)
        XCTAssertTrue(dead.out.hasSuffix("2 waiting\n"), dead.out)
        // The action that could not render is a dead action of the journey and of its connector.
        let afterAccept = await hirewire(["inspect", "offer-nurture/a1"], in: project)
        XCTAssertTrue(afterAccept.out.contains("  dead      http states.accepted.do[0]  not rendered: "), afterAccept.out)
        let report = await hirewire(["report", "--since", "2030-01-01T00:00:00Z", "--format", "json"], in: project)
        let connectors = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(report.out.utf8)) as? [String: Any])?["connectors"] as? [[String: Any]], report.out)
        let http = try XCTUnwrap(connectors.first { $0["connector"] as? String == "http" }, report.out)
        XCTAssertEqual(http["dead"] as? Int, 1, report.out)
        XCTAssertEqual(http["delivery_rate"] as? Double, 0, report.out)
        let one = await hirewire(["dead-letters", "--limit", "1"], in: project)
        XCTAssertTrue(one.out.hasSuffix("2 waiting (the newest 1 shown; --limit N for more)\n"), one.out)
        let failed = try XCTUnwrap(dead.out.split(separator: "\n").first { $0.hasPrefix("failed:") }.map { String($0.split(separator: " ")[0]) }, dead.out)
        let refused = await hirewire(["dead-letters", "replay", failed], in: project)
        XCTAssertEqual(refused.code, 2, refused.out)
        XCTAssertTrue(refused.err.contains("fix the cause, then dismiss it"), refused.err)
        let dismissed = await hirewire(["dead-letters", "dismiss", failed], in: project)
        XCTAssertEqual(dismissed.code, 0, dismissed.err)
        let remaining = await hirewire(["dead-letters"], in: project)
        XCTAssertTrue(remaining.out.hasSuffix("1 waiting\n"), remaining.out)
        _ = try engine.submit([CanonicalEvent(id: "e4", type: "offer.extended", occurredAt: now, source: "test", data: event.data)], now: now)
        try engine.processInbox(now: now)

        let cancel = await hirewire(["cancel", "offer-nurture/a1"], in: project)
        XCTAssertEqual(cancel.code, 0, cancel.err)
        XCTAssertTrue(cancel.out.contains("cancelled in state extended"), cancel.out)
        let again = await hirewire(["cancel", "offer-nurture/a1"], in: project)
        XCTAssertEqual(again.code, 1)
        let json = await hirewire(["inspect", "offer-nurture/a1", "--format", "json"], in: project)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        XCTAssertEqual((object["journey"] as? [String: Any])?["outcome"] as? String, "cancelled")
        XCTAssertEqual((object["timers"] as? [Any])?.count, 0)
    }

    func testMissingStoreIsAnEnvironmentError() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let r = await hirewire(["timers"], in: project)
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("no store at"), r.err)
        let bad = await hirewire(["timers", "--due-before", "yesterday"], in: project)
        XCTAssertEqual(bad.code, 2)
    }

    /// A read-only command pointed at some other SQLite file, or an empty one, refuses it and
    /// leaves it as it was (it used to add Hirewire's tables and switch it to WAL).
    func testAFileThatIsNotAStoreIsRefusedAndLeftAlone() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let other = project + "/other.db"
        let raw = try SQLiteDatabase(path: other)
        try raw.execute("CREATE TABLE customers (id INTEGER)")
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        let empty = project + "/empty.db"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        for command in [["timers"], ["dead-letters"], ["inspect", "offer-nurture/a1"]] {
            let r = await hirewire(command + ["--db", other], in: project)
            XCTAssertEqual(r.code, 2, "\(command)")
            XCTAssertTrue(r.err.contains("is an SQLite database, but not a Hirewire store"), r.err)
            let e = await hirewire(command + ["--db", empty], in: project)
            XCTAssertEqual(e.code, 2)
            XCTAssertTrue(e.err.contains("is an empty file, not a Hirewire store"), e.err)
        }
        let serve = await hirewire(["serve", "--port", "0", "--db", other], in: project)
        XCTAssertEqual(serve.code, 2)
        XCTAssertTrue(serve.err.contains("not a Hirewire store"), serve.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), before)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other + "-wal"))
    }
}
