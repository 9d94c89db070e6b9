import Foundation
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
@testable import HirewireStore

final class EraseCommandTests: XCTestCase {
    let now = Timestamp.parse("2026-11-30T12:00:00Z") ?? Date()

    func offer(_ id: String, candidate: String, application: String, name: String, email: String) -> CanonicalEvent {
        CanonicalEvent(id: id, type: "offer.extended", occurredAt: now, source: "test", data: [
            "candidate": ["id": .string(candidate), "first_name": .string(name), "email": .string(email), "timezone": "Europe/London"],
            "application": ["id": .string(application)], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
            "offer": ["id": "o1", "tier": "B"],
        ])
    }

    /// A store with two candidates' offer journeys started: c1 (Adaline, a1) and c2 (Bartholomew, a2).
    func twoOffers(_ project: String) throws -> (SQLiteStore, JourneyEngine) {
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: store)
        _ = try engine.submit([offer("e1", candidate: "c1", application: "a1", name: "Adaline", email: "adaline@example.com"),
                               offer("e2", candidate: "c2", application: "a2", name: "Bartholomew", email: "bart@example.com")], now: now)
        try engine.processInbox(now: now)
        return (store, engine)
    }

    /// Event `type` for application a1, naming nothing else, processed.
    func follow(_ type: String, _ engine: JourneyEngine) throws {
        _ = try engine.submit([CanonicalEvent(id: "e3", type: type, occurredAt: now, source: "test", data: ["application": ["id": "a1"]])], now: now)
        try engine.processInbox(now: now)
    }

    /// Everything of the store and the Maildir, as text: what a person could still read.
    func everything(_ project: String) throws -> String {
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        var out = ""
        for table in ["journeys", "inbox", "deliveries", "outbox", "audit", "timers", "tasks", "messages", "applications"] {
            try store.db.query("SELECT * FROM \(table)") { row in
                for i in 0..<row.columnCount { out += (row.text(Int32(i)) ?? "") + "|" }
                out += "\n"
            }
        }
        let fm = FileManager.default
        for folder in ["new", "cur", "tmp"] {
            let dir = project + "/.hirewire/mail/" + folder
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                out += String(decoding: fm.contents(atPath: dir + "/" + name) ?? Data(), as: UTF8.self)
            }
        }
        return out
    }

    func testEraseEndsTheJourneyAndLeavesNothingOfTheCandidate() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let (store, engine) = try twoOffers(project)
        // A later event names only the application; a raw delivery is the vendor's own body.
        try follow("offer.viewed", engine)
        _ = try store.appendDeliveries([Delivery(sequence: 0, source: "greenhouse", eventId: "d1", receivedAt: now, headers: [:],
                                                 body: Array(#"{"email": "adaline@example.com", "name": "Adaline"}"#.utf8))])
        // The email goes out, into the project's Maildir.
        let environment = ConnectorEnvironment(root: project, settings: [:], env: [:], allowPrivateNetworks: true)
        await ActionDispatcher(store: store, connectors: [EmailConnector(environment: environment), SlackConnector(environment: environment)]).runOnce()
        let mailFiles = (try? FileManager.default.contentsOfDirectory(atPath: project + "/.hirewire/mail/new")) ?? []
        XCTAssertEqual(mailFiles.count, 2, "both offers were mailed")
        let before = try everything(project)
        XCTAssertTrue(before.contains("adaline@example.com") && before.contains("Adaline"), "the test needs the data stored first")

        let erased = await hirewire(["erase", "--candidate", "c1"], in: project)
        XCTAssertEqual(erased.code, 0, erased.err)
        XCTAssertTrue(erased.out.contains("ended (erased) in state viewed"), erased.out)
        XCTAssertTrue(erased.out.contains("1 mail files"), erased.out)
        let after = try everything(project)
        for trace in ["adaline@example.com", "Adaline", "\"a1\"", "|a1|", "/a1"] {
            XCTAssertFalse(after.contains(trace), "\(trace) is still stored:\n\(after)")
        }
        // The other candidate is untouched, and the journey is still counted.
        XCTAssertTrue(after.contains("bart@example.com") && after.contains("Bartholomew"))
        let report = await hirewire(["report", "--since", "2026-11-01T00:00:00Z"], in: project)
        XCTAssertEqual(report.code, 0, report.err)
        let reopened = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        var rows: [(id: String, outcome: String)] = []
        try reopened.db.query("SELECT id, outcome FROM journeys ORDER BY outcome") { row in rows.append((row.text(0) ?? "", row.text(1) ?? "active")) }
        XCTAssertEqual(rows.map(\.outcome), ["active", "erased"])
        let erasedId = try XCTUnwrap(rows.last?.id)
        XCTAssertEqual(try reopened.timers(journey: erasedId).count, 0, "nothing of the erased journey may fire")
        XCTAssertGreaterThan(try reopened.timers(journey: rows[0].id).count, 0)
        XCTAssertEqual(try reopened.outbox(journey: erasedId).map(\.arguments), [[:], [:]])
        let inspect = await hirewire(["inspect", erasedId], in: project)
        XCTAssertEqual(inspect.code, 0, inspect.err)
        XCTAssertTrue(inspect.out.contains("state viewed  ended: erased"), inspect.out)
        XCTAssertTrue(inspect.out.contains("end              outcome=erased state=viewed"), inspect.out)

        let listed = await hirewire(["events"], in: project)
        XCTAssertTrue(listed.out.contains("  d1  (data erased)"), listed.out)
        // Again: nothing more to remove.
        let again = await hirewire(["erase", "--candidate", "c1", "--format", "json"], in: project)
        XCTAssertEqual(again.code, 0, again.err)
        let counts = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        for key in ["journeys", "events", "deliveries", "actions", "audit_rows", "timers", "tasks", "messages", "applications", "mail"] {
            XCTAssertEqual(counts[key] as? Int, 0, "\(key): \(again.out)")
        }
        let unknown = await hirewire(["erase", "--candidate", "nobody"], in: project)
        XCTAssertEqual(unknown.out, "nothing stored for candidate nobody\n")
        let missing = await hirewire(["erase"], in: project)
        XCTAssertEqual(missing.code, 2, missing.out)
    }

    /// `retention:` as serve applies it: settled events past `events` go; journeys that ended
    /// past `personal_data` lose their data; live journeys and recent ones keep theirs.
    func testRetentionDeletesOldEventsAndOldJourneysData() throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let (store, engine) = try twoOffers(project)
        // One offer is declined (its journey ends), the other stays open.
        try follow("offer.declined", engine)

        // 89 days on, nothing is old enough.
        XCTAssertEqual(try engine.enforceRetention(now: now.addingTimeInterval(89 * 86400)), RetentionReport())
        // 91 days: the events go (the defaults: events 90d, personal data 365d), journeys stay.
        let events = try engine.enforceRetention(now: now.addingTimeInterval(91 * 86400))
        XCTAssertEqual(events.events, 3)
        XCTAssertEqual(events.personalData, ErasureCounts())
        XCTAssertNil(try store.inboxEvent(id: "e1"))
        // A year and a day: the declined journey's data goes; the open one keeps its own.
        let old = try engine.enforceRetention(now: now.addingTimeInterval(366 * 86400))
        XCTAssertEqual(old.personalData.journeys, 1)
        let after = try everything(project)
        XCTAssertFalse(after.contains("adaline@example.com"), after)
        XCTAssertTrue(after.contains("bart@example.com"), after)
        XCTAssertEqual(try store.activeJourney(flow: "offer-nurture", key: "a2")?.context["candidate"]?["first_name"], "Bartholomew")
    }

    /// The personal-data sweep runs before the events purge: an event the purge deletes still
    /// shows that its application is in use, and keeps the application's profile.
    func testRetentionCountsAnEventAboutToBePurgedAsRecentUse() throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let (store, engine) = try twoOffers(project)
        try follow("offer.declined", engine)
        try store.saveApplicationProfile("a1", ["candidate": ["id": "c1", "email": "adaline@example.com"]], at: now)
        // 300 days on, the application is heard of again (no flow starts on a withdrawal).
        let later = now.addingTimeInterval(300 * 86400)
        _ = try engine.submit([CanonicalEvent(id: "e9", type: "candidate.withdrawn", occurredAt: later, source: "test",
                                              data: ["application": ["id": "a1"], "candidate": ["id": "c1"]])], now: later)
        try engine.processInbox(now: later)
        // 395 days after the decline: the journey expired, the 95-day-old event is purged, but
        // it was news within the year, so the profile stays.
        let report = try engine.enforceRetention(now: now.addingTimeInterval(395 * 86400))
        XCTAssertEqual(report.personalData.journeys, 1)
        XCTAssertNil(try store.inboxEvent(id: "e9"), "older than retention.events")
        XCTAssertNotNil(try store.applicationProfile("a1"))
    }

    /// A numeric application id names the raw delivery's application too, so erasure finds a
    /// body that names nobody but the application.
    func testANumericApplicationIdIsFollowedToItsDeliveries() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: project), store: store)
        let applied = #"{"type": "candidate.applied", "data": {"candidate": {"id": "c9", "first_name": "Nu", "email": "nu@example.com"}, "application": {"id": 123}, "job": {"title": "SRE"}}}"#
        let withdrawn = #"{"type": "candidate.withdrawn", "data": {"application": {"id": 123}, "note": "the Numeric family moved"}}"#
        _ = try store.appendDeliveries([Delivery(source: "events", eventId: "n1", receivedAt: now, headers: [:], body: Array(applied.utf8)),
                                        Delivery(source: "events", eventId: "n2", receivedAt: now, headers: [:], body: Array(withdrawn.utf8))])
        try engine.mapDeliveries(sources: [:], now: now)
        try engine.processInbox(now: now)
        let erased = await hirewire(["erase", "--candidate", "c9"], in: project)
        XCTAssertEqual(erased.code, 0, erased.err)
        let after = try everything(project)
        XCTAssertFalse(after.contains("Numeric"), after)
        XCTAssertFalse(after.contains("nu@example.com"), after)
    }
}
