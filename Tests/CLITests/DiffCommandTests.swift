import Foundation
import XCTest
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// `hirewire diff` and `graph --changes` in a temporary git repository with real commits.
final class DiffCommandTests: XCTestCase {
    var repo = ""

    override func setUpWithError() throws {
        repo = try copyOfBundledProject()
        try git(["init", "-q"])
        try git(["-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"])
        try git(["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "bundled journeys"])
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: repo)
    }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repo)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "git \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    func testDiffGitAgainstTheWorkTree() async throws {
        let unchanged = await hirewire(["diff", "--git", "HEAD"], in: repo)
        XCTAssertEqual(unchanged.code, 0, unchanged.err)
        XCTAssertEqual(unchanged.out, "no semantic changes\n")
        // Reformatting and comments only: still nothing.
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "states:\n", with: "# the journey\nstates:\n\n")
        let cosmetic = await hirewire(["diff", "--git", "HEAD"], in: repo)
        XCTAssertEqual(cosmetic.code, 0, cosmetic.out)
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "between: [36h, 48h]", with: "between: [24h, 36h]")
        let changed = await hirewire(["diff", "--git", "HEAD"], in: repo)
        XCTAssertEqual(changed.code, 1, changed.err)
        XCTAssertTrue(changed.out.hasPrefix("offer-nurture  v"), changed.out)
        XCTAssertTrue(changed.out.contains("~ state extended: timer 'between 36h and 48h (calendar business-hours)' → 'between 24h and 36h (calendar business-hours)'  [flows/offer-nurture.yaml:"), changed.out)
        XCTAssertFalse(changed.out.contains("application-received"))
        let markdown = await hirewire(["diff", "--git", "HEAD", "--format", "markdown", "offer-nurture"], in: repo)
        XCTAssertTrue(markdown.out.contains("**offer-nurture**"), markdown.out)
        let other = await hirewire(["diff", "--git", "HEAD", "flows/application-received.yaml"], in: repo)
        XCTAssertEqual(other.code, 0, other.out)
    }

    func testDiffTwoFilesAndBadInput() async throws {
        let copy = repo + "/flows/offer-copy.yaml.txt"
        try String(contentsOfFile: repo + "/flows/offer-nurture.yaml", encoding: .utf8)
            .replacingOccurrences(of: "follow_up", with: "check_in").write(toFile: copy, atomically: true, encoding: .utf8)
        let r = await hirewire(["diff", "flows/offer-nurture.yaml", "flows/offer-copy.yaml.txt", "--format", "json"], in: repo)
        XCTAssertEqual(r.code, 1, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let flow = try XCTUnwrap((json["flows"] as? [[String: Any]])?.first)
        XCTAssertEqual(flow["renames"] as? [String: String], ["follow_up": "check_in"])
        XCTAssertEqual((flow["changes"] as? [Any])?.count, 1)
        let missing = await hirewire(["diff", "flows/offer-nurture.yaml"], in: repo)
        XCTAssertEqual(missing.code, 2)
        let bad = await hirewire(["diff", "--git", "no-such-rev"], in: repo)
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.err.contains("git ls-tree"), bad.err)
    }

    func testTextconvMakesGitDiffSemantic() async throws {
        let r = await hirewire(["diff", "--textconv", "flows/offer-nurture.yaml"], in: repo)
        XCTAssertEqual(r.code, 0)
        XCTAssertTrue(r.out.contains("state extended:\n  do email offer-next-steps"), r.out)
        XCTAssertTrue(r.out.contains("  after between 36h and 48h (calendar business-hours) → follow_up"), r.out)
        // With the README's .gitattributes line, git diff itself shows the semantic change.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let binary = FileManager.default.isExecutableFile(atPath: products + "/hirewire") ? products + "/hirewire" : repoRoot + "/.build/debug/hirewire"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("hirewire not built") }
        try "flows/*.yaml diff=hirewire\n".write(toFile: repo + "/.gitattributes", atomically: true, encoding: .utf8)
        try git(["config", "diff.hirewire.textconv", "\(binary) diff --textconv"])
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "{delay: 24h, goto: call}\n  call:", with: "{delay: 12h, goto: call}\n  call:")
        let diff = try git(["diff", "--", "flows/offer-nurture.yaml"])
        XCTAssertTrue(diff.contains("-  after 24h → call\n+  after 12h → call"), diff)
    }

    func testGraphChangesMarksAddedRemovedAndChanged() async throws {
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "      offer.viewed: viewed\n", with: "")
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "after: {delay: 24h, goto: call}\n  call:", with: "after: {delay: 24h, goto: nudge}\n  nudge:\n    do: [{slack: {text: \"nudge {{name}}\"}}]\n    on: {offer.accepted: accepted}\n    after: {delay: 1d, goto: call}\n  call:")
        let mermaid = await hirewire(["graph", "offer-nurture", "--changes", "HEAD"], in: repo)
        XCTAssertEqual(mermaid.code, 0, mermaid.err)
        XCTAssertTrue(mermaid.out.contains("class nudge added"), mermaid.out)
        XCTAssertTrue(mermaid.out.contains("extended --> viewed: (−) offer.viewed"), mermaid.out)
        XCTAssertTrue(mermaid.out.contains("follow_up --> nudge: (+) after 24h"), mermaid.out)
        XCTAssertTrue(mermaid.out.contains(" changed"), mermaid.out)
        let dot = await hirewire(["graph", "offer-nurture", "--changes", "HEAD", "--format", "dot"], in: repo)
        XCTAssertTrue(dot.out.contains("\"nudge\" [label=\"nudge\\n/ slack\", color=green"), dot.out)
        XCTAssertTrue(dot.out.contains("\"extended\" -> \"viewed\" [label=\"offer.viewed\", color=red"), dot.out)
    }

    func testLiveJourneyImpactFromTheStore() async throws {
        let store = try SQLiteStore(path: repo + "/.hirewire/hirewire.db")
        let engine = try JourneyEngine(project: ProjectCompiler.compile(root: repo), store: store)
        let now = Timestamp.parse("2030-01-07T12:00:00Z") ?? Date()
        for i in 1...3 {
            let event = CanonicalEvent(id: "e\(i)", type: "offer.extended", occurredAt: now, source: "test", data: [
                "candidate": ["id": .string("c\(i)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
                "application": ["id": .string("a\(i)")], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
                "offer": ["id": "o1", "tier": "B"],
            ])
            _ = try engine.submit([event], now: now)
        }
        try engine.processInbox(now: now)
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "      offer.viewed: viewed\n", with: "")
        try String(contentsOfFile: repo + "/flows/offer-nurture.yaml", encoding: .utf8)
            .replacingOccurrences(of: "extended", with: "offered").replacingOccurrences(of: "offer.offered", with: "offer.extended")
            .write(toFile: repo + "/flows/offer-nurture.yaml", atomically: true, encoding: .utf8)
        let r = await hirewire(["diff", "--git", "HEAD"], in: repo)
        XCTAssertEqual(r.code, 1, r.err)
        XCTAssertTrue(r.out.contains("! 3 live journeys wait in 'extended', which v"), r.out)
        XCTAssertTrue(r.out.contains("removes: they stay on v"), r.out)
        try edit(repo + "/flows/offer-nurture.yaml", replacing: "initial: offered\n", with: "initial: offered\nmigrate: {extended: offered}\n")
        let migrated = await hirewire(["diff", "--git", "HEAD"], in: repo)
        XCTAssertTrue(migrated.out.contains("! 3 live journeys wait in 'extended' (v"), migrated.out)
        XCTAssertTrue(migrated.out.contains("migrate: moves them to 'offered'"), migrated.out)
    }
}
