import Foundation
import XCTest
@testable import HirewireCLI

final class CommandTests: XCTestCase {
    func testValidateBundledProject() async {
        let r = await hirewire(["validate"])
        XCTAssertEqual(r.code, 0, r.out + r.err)
        XCTAssertEqual(r.out, "0 errors, 0 warnings\n")
    }

    func testValidateReportsTypoWithPositionAndExitOne() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let file = project + "/flows/offer-nurture.yaml"
        try edit(file, replacing: "goto: follow_up", with: "goto: folow_up")
        let at = try XCTUnwrap(try position(of: "folow_up", in: file))
        let r = await hirewire(["validate"], in: project)
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.out.contains("flows/offer-nurture.yaml:\(at.line):\(at.column): error: unknown state 'folow_up' (did you mean 'follow_up'?) [unknown-state]"), r.out)
        XCTAssertTrue(r.out.contains("warning: state 'follow_up' is unreachable from 'extended' [unreachable-state]"), r.out)
        XCTAssertTrue(r.out.hasSuffix("1 error, 1 warning\n"), r.out)
    }

    func testValidateWithProjectOptionPrefixesPaths() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/assessment-segmentation.yaml", replacing: "percent >= 80", with: "percent >= \"80\"")
        let parent = (project as NSString).deletingLastPathComponent
        let name = (project as NSString).lastPathComponent
        let r = await hirewire(["validate", "--project", name], in: parent)
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.out.hasPrefix("\(name)/flows/assessment-segmentation.yaml:"), r.out)
        XCTAssertTrue(r.out.contains("[expression-type]"), r.out)
    }

    func testValidateJSONFormat() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/offer-nurture.yaml", replacing: "template: offer-check-in", with: "template: offer-checkin")
        let r = await hirewire(["validate", "--format", "json"], in: project)
        XCTAssertEqual(r.code, 1)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(object["errors"] as? Int, 1)
        let first = try XCTUnwrap((object["diagnostics"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["code"] as? String, "unknown-template")
        XCTAssertEqual(first["file"] as? String, "flows/offer-nurture.yaml")
        XCTAssertNotNil(first["line"] as? Int)
    }

    func testValidateSelectedPathOnlyReportsThatFile() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/offer-nurture.yaml", replacing: "offer.viewed: viewed", with: "offer.viewd: viewed")
        let clean = await hirewire(["validate", "flows/application-received.yaml"], in: project)
        XCTAssertEqual(clean.code, 0, clean.out)
        let broken = await hirewire(["validate", "flows/offer-nurture.yaml"], in: project)
        XCTAssertEqual(broken.code, 1)
        XCTAssertTrue(broken.out.contains("[unknown-event]"), broken.out)
    }

    /// A file the project does not load (in its folder but not in flows/, or outside it) is
    /// compiled as a flow beside the project — it passed unread, "0 errors", before. A copy of
    /// a project flow stands in for that flow instead of duplicating its id.
    func testValidateAFileTheProjectDoesNotLoad() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try "garbage: [\n".write(toFile: project + "/g.yaml", atomically: true, encoding: .utf8)
        let garbage = await hirewire(["validate", "g.yaml"], in: project)
        XCTAssertEqual(garbage.code, 1, garbage.out)
        XCTAssertTrue(garbage.out.contains("g.yaml:2:1: error:"), garbage.out)
        let flow = try String(contentsOfFile: project + "/flows/offer-nurture.yaml", encoding: .utf8)
        try FileManager.default.createDirectory(atPath: project + "/drafts", withIntermediateDirectories: true)
        try flow.replacingOccurrences(of: "goto: follow_up", with: "goto: folow_up").write(toFile: project + "/drafts/offer.yaml", atomically: true, encoding: .utf8)
        let draft = await hirewire(["validate", "drafts/offer.yaml"], in: project)
        XCTAssertEqual(draft.code, 1, draft.out)
        XCTAssertTrue(draft.out.contains("drafts/offer.yaml:38:15: error: unknown state 'folow_up'"), draft.out)
        XCTAssertFalse(draft.out.contains("duplicate-flow"), "a draft of a project flow is another version of it: \(draft.out)")
        // Below flows/ only flow tests are read at any depth: a flow in a subfolder is a draft too.
        try FileManager.default.createDirectory(atPath: project + "/flows/drafts", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: project + "/drafts/offer.yaml", toPath: project + "/flows/drafts/offer.yaml")
        let nested = await hirewire(["validate", "flows/drafts/offer.yaml"], in: project)
        XCTAssertEqual(nested.code, 1, nested.out)
        XCTAssertTrue(nested.out.contains("unknown state 'folow_up'"), nested.out)
        let graph = await hirewire(["graph", "drafts/offer.yaml"], in: project)
        XCTAssertEqual(graph.code, 1, graph.out)
        XCTAssertTrue(graph.err.contains("unknown state 'folow_up'"), graph.err)
        try flow.write(toFile: project + "/drafts/offer.yaml", atomically: true, encoding: .utf8)
        let fixed = await hirewire(["validate", "drafts/offer.yaml"], in: project)
        XCTAssertEqual(fixed.code, 0, fixed.out)
    }

    func testValidateOutsideAProjectIsAnEnvironmentError() async {
        let r = await hirewire(["validate"], in: NSTemporaryDirectory())
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("not a Hirewire project"), r.err)
    }

    func testGraphMermaidAndDot() async {
        let mermaid = await hirewire(["graph", "flows/offer-nurture.yaml"])
        XCTAssertEqual(mermaid.code, 0, mermaid.err)
        XCTAssertTrue(mermaid.out.hasPrefix("stateDiagram-v2\n"))
        XCTAssertTrue(mermaid.out.contains("extended --> follow_up: after between 36h and 48h (business-hours)"), mermaid.out)
        XCTAssertTrue(mermaid.out.contains("accepted --> [*]: hired"))
        let dot = await hirewire(["graph", "assessment-segmentation", "--format", "dot"])
        XCTAssertEqual(dot.code, 0)
        XCTAssertTrue(dot.out.hasPrefix("digraph \"assessment-segmentation\" {"), dot.out)
        XCTAssertTrue(dot.out.contains("\"segment\" -> \"recruiter_review\" [label=\"[else]\"];"), dot.out)
        // Both formats show what starts a journey (with start.if), outcomes, the timeout, exits
        // and journey-wide timers; DOT showed none of the last four.
        XCTAssertTrue(mermaid.out.contains("[*] --> extended: offer.extended [offer.tier != #34;exec#34;]"), mermaid.out)
        XCTAssertTrue(mermaid.out.contains("note right of extended: timeout 30d → timed_out"), mermaid.out)
        let offerDot = await hirewire(["graph", "flows/offer-nurture.yaml", "--format", "dot"])
        XCTAssertTrue(offerDot.out.contains("\"accepted\" -> \"__end_accepted\" [label=\"hired\"];"), offerDot.out)
        XCTAssertTrue(offerDot.out.contains("exit on candidate.withdrawn → withdrawn"), offerDot.out)
        XCTAssertTrue(offerDot.out.contains("journey-wide after at offer.expires_at - 24h"), offerDot.out)
    }

    /// State names that differ only in characters Mermaid ids cannot hold get distinct ids.
    func testGraphGivesDistinctMermaidIds() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try """
            flow: ids
            start: {on: candidate.applied, key: application.id}
            states:
              a-b: {on: {candidate.stage_changed: a_b}, after: {delay: 2h, late: 1h, goto: a_b}}
              a_b: {end: done}
            """.write(toFile: project + "/flows/ids.yaml", atomically: true, encoding: .utf8)
        let r = await hirewire(["graph", "flows/ids.yaml"], in: project)
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("state \"a-b\" as a_b_2"), r.out)
        XCTAssertTrue(r.out.contains("a_b_2 --> a_b: candidate.stage_changed"), r.out)
        XCTAssertTrue(r.out.contains("a_b_2 --> a_b: after 2h (late ≤ 1h)"), r.out)
    }

    func testGraphOfBrokenFlowShowsDiagnostics() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try edit(project + "/flows/offer-nurture.yaml", replacing: "goto: call", with: "goto: cal")
        let r = await hirewire(["graph", "flows/offer-nurture.yaml"], in: project)
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("unknown state 'cal'"), r.err)
        XCTAssertEqual(r.out, "")
        // Named by id, with another flow broken too: only this flow's errors.
        try edit(project + "/flows/interview-scheduling.yaml", replacing: "reentry: restart", with: "reentry: restrat")
        let byId = await hirewire(["graph", "offer-nurture"], in: project)
        XCTAssertEqual(byId.code, 1)
        XCTAssertTrue(byId.err.contains("unknown state 'cal'"), byId.err)
        XCTAssertFalse(byId.err.contains("interview-scheduling"), byId.err)
    }

    func testGraphUnknownFlow() async {
        let r = await hirewire(["graph", "offer-nurtur"])
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("did you mean 'offer-nurture'?"), r.err)
    }

    func testEvalAgainstEventFile() async {
        let r = await hirewire(["eval", "assessment.score / assessment.max_score * 100 >= 80", "--data", "examples/events/assessment-completed-high.json"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, "true\n")
        let t = await hirewire(["eval", "offer.expires_at - 24h", "--data", "examples/events/offer-extended.json"])
        XCTAssertEqual(t.out, "\"2026-03-08T17:00:00Z\"\n")
    }

    func testEvalReadsStandardInput() async {
        let r = await hirewire(["eval", "candidate.preferred_name ?? candidate.first_name"], input: #"{"candidate": {"first_name": "Ada"}}"#)
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, "\"Ada\"\n")
    }

    func testEvalErrorShowsColumn() async {
        let r = await hirewire(["eval", "offer.id == "], input: "{}")
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("error: column 13: expected a value"), r.err)
        XCTAssertTrue(r.err.contains("\n              ^\n"), r.err)
    }

    func testRenderPreviewUsesFlowLets() async {
        let r = await hirewire(["render", "offer-next-steps", "--data", "examples/events/offer-extended.json"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("Subject: Your offer for Senior Data Engineer: next steps\n--- text ---\nHi Ada,\n"), r.out)
        XCTAssertTrue(r.out.contains("<strong>Senior Data Engineer</strong>"))
    }

    func testRenderFailsOnMissingValueWithPosition() async throws {
        let r = await hirewire(["render", "interview-reminder"], input: #"{"candidate": {"first_name": "Ada"}, "job": {"title": "SRE"}}"#)
        XCTAssertEqual(r.code, 1)
        let at = try XCTUnwrap(try position(of: "{{interview.starts_at}}", in: repoRoot + "/templates/interview-reminder.yaml"))
        XCTAssertTrue(r.err.contains("templates/interview-reminder.yaml:\(at.line):\(at.column): error: missing value for '{{interview.starts_at}}' [render-failed]"), r.err)
    }

    /// An empty or blank value is a blank token as much as a missing one: "Hi ," never goes out.
    func testRenderFailsOnAnEmptyValue() async throws {
        let r = await hirewire(["render", "offer-next-steps"],
                               input: #"{"candidate": {"first_name": "Ada", "preferred_name": " "}, "job": {"title": "SRE"}, "recruiter": {"email": "sam@acme.test"}}"#)
        XCTAssertEqual(r.code, 1, r.out)
        XCTAssertTrue(r.err.contains("error: empty value for '{{name}}' [render-failed]"), r.err)
        let named = await hirewire(["render", "offer-next-steps"],
                                   input: #"{"candidate": {"first_name": "Ada", "preferred_name": "Addie"}, "job": {"title": "SRE"}, "recruiter": {"email": "sam@acme.test"}}"#)
        XCTAssertEqual(named.code, 0, named.err)
        XCTAssertTrue(named.out.contains("Hi Addie,"), named.out)
    }

    /// Inside a section over an entity, a plain name is that entity's field only: a manager
    /// without a name fails the render (it showed the candidate's `name` instead), and the
    /// compiler asks for the same guard.
    func testAPlainNameInsideAnEntitySectionIsThatEntitysField() async throws {
        let file = try templateFile("subject: Interview\ntext: \"Manager: {{#hiring_manager}}{{name}}{{/hiring_manager}}\"\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let missing = await hirewire(["render", file], input: #"{"candidate": {"first_name": "Ada"}, "hiring_manager": {"email": "lee@acme.test"}}"#)
        XCTAssertEqual(missing.code, 1, missing.out)
        XCTAssertTrue(missing.err.contains("missing value for '{{name}}'"), missing.err)
        let named = await hirewire(["render", file], input: #"{"candidate": {"first_name": "Ada"}, "hiring_manager": {"name": "Lee"}}"#)
        XCTAssertTrue(named.out.contains("Manager: Lee"), named.out)

        let checked = try await validateSending(file)
        XCTAssertEqual(checked.code, 1, checked.out)
        XCTAssertTrue(checked.out.contains("hiring_manager.name is optional for this flow"), checked.out)
    }

    /// A whole object or list has no text of its own: shown, it was JSON with every personal
    /// field. Rendering refuses it, and so does the compiler.
    func testATagThatShowsAWholeObjectIsAnError() async throws {
        let file = try templateFile("subject: Hi\ntext: \"About {{candidate}}\"\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = await hirewire(["render", file], input: #"{"candidate": {"first_name": "Ada", "email": "ada@example.com"}}"#)
        XCTAssertEqual(r.code, 1, r.out)
        XCTAssertTrue(r.err.contains("'{{candidate}}' is an object; name one of its fields"), r.err)
        XCTAssertFalse(r.out.contains("ada@example.com"), r.out)

        let checked = try await validateSending(file)
        XCTAssertEqual(checked.code, 1, checked.out)
        XCTAssertTrue(checked.out.contains("[template-object]"), checked.out)
    }

    /// A template file holding `text`, in the temporary folder (the caller removes it).
    func templateFile(_ text: String) throws -> String {
        let file = NSTemporaryDirectory() + "template-\(UUID().uuidString).yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// `validate` on a copy of the bundled project whose interview flow sends template `file`.
    func validateSending(_ file: String) async throws -> (code: Int32, out: String, err: String) {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try FileManager.default.copyItem(atPath: file, toPath: project + "/templates/probe.yaml")
        try edit(project + "/flows/interview-scheduling.yaml", replacing: "template: interview-cancelled", with: "template: probe")
        return await hirewire(["validate"], in: project)
    }

    func testRenderUnknownTemplate() async {
        let r = await hirewire(["render", "offer-next-step"], input: "{}")
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("did you mean 'offer-next-steps'?"), r.err)
    }
}
