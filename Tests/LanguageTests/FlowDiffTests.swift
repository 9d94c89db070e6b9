import Foundation
import XCTest
@testable import HirewireLanguage

/// Semantic diffs of each bundled journey against hand-made edits of it.
final class FlowDiffTests: XCTestCase {
    static let repo = SchemaTests.repo

    /// Compiles the bundled project with `flow` replaced by `edit(text)` (and optional other
    /// file edits), and diffs that flow against the original.
    func diff(_ flow: String, files: [String: (String) -> String] = [:], _ edit: (String) -> String) throws -> FlowDiff {
        let root = NSTemporaryDirectory() + "hirewire-diff-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for item in ["flows", "templates", "hirewire.yaml"] {
            try FileManager.default.copyItem(atPath: Self.repo + "/" + item, toPath: root + "/" + item)
        }
        let path = root + "/flows/\(flow).yaml"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try edit(original).write(toFile: path, atomically: true, encoding: .utf8)
        for (file, change) in files {
            let full = root + "/" + file
            try change(try String(contentsOfFile: full, encoding: .utf8)).write(toFile: full, atomically: true, encoding: .utf8)
        }
        let before = ProjectCompiler.compile(root: Self.repo)
        let after = ProjectCompiler.compile(root: root)
        XCTAssertEqual(after.runErrors.map(\.description), [], "edited flows compile (their tests may lag)")
        return SemanticDiff.diff(old: before.machines[flow], new: after.machines[flow], oldProject: before, newProject: after)
    }

    func texts(_ d: FlowDiff) -> [String] { d.changes.map { "\($0.op) \($0.text)" } }

    func testCosmeticEditsReportNothing() throws {
        for flow in ["offer-nurture", "application-received", "assessment-segmentation", "interview-scheduling"] {
            let d = try diff(flow) { text in
                // Comments, blank lines, and flow-style re-indentation of the description.
                "# a comment at the top\n\n" + text.replacingOccurrences(of: "\nstart:", with: "\n# why we start\nstart:")
                    .replacingOccurrences(of: "states:\n", with: "states:   # the journey\n\n")
            }
            XCTAssertEqual(texts(d), [], flow)
        }
    }

    /// Expressions and timings written another way with the same meaning are no change:
    /// quotes, spacing, redundant parentheses, `36h` as `1d12h`.
    func testExpressionsAndTimingsWrittenAnotherWayReportNothing() throws {
        let d = try diff("offer-nurture") { text in
            text.replacingOccurrences(of: "if: offer.tier != \"exec\"", with: "if: (offer.tier != 'exec')")
                .replacingOccurrences(of: "name: candidate.preferred_name ?? candidate.first_name", with: "name: candidate.preferred_name??candidate.first_name")
                .replacingOccurrences(of: "between: [36h, 48h]", with: "between: [1d12h, 2d]")
                .replacingOccurrences(of: "if: event.data.application.id == application.id", with: "if: \"(event.data.application.id) == application.id\"")
                .replacingOccurrences(of: "require: [candidate.email, candidate.first_name, recruiter.email, job.title]",
                                      with: "require: [job.title, candidate.first_name, recruiter.email, candidate.email]")
        }
        XCTAssertEqual(texts(d), [])
        // A change of meaning still shows, in the words written.
        let changed = try diff("offer-nurture") { text in
            text.replacingOccurrences(of: "if: offer.tier != \"exec\"", with: "if: offer.tier != 'vip'")
        }
        XCTAssertEqual(texts(changed), ["~ start.if: offer.tier != \"exec\" → offer.tier != 'vip'"])
    }

    /// A removed state is gone from the new file: it is placed in the old one.
    func testARemovedStateSaysWhereItWas() throws {
        let d = try diff("offer-nurture") { text in
            text.replacingOccurrences(of: "after: {delay: 24h, goto: call}", with: "after: {delay: 24h, goto: declined}")
                .replacingOccurrences(of: "  call:\n    do: [{task: {title: \"Call {{name}} about the {{job.title}} offer\", assignee: \"{{recruiter.email}}\", due: 4h}}]\n    on: {offer.accepted: accepted, offer.declined: declined}\n", with: "")
        }
        XCTAssertTrue(texts(d).contains("- state call (was at flows/offer-nurture.yaml:48)"), "\(texts(d))")
    }

    func testKeyOrderDoesNotMatter() throws {
        let d = try diff("offer-nurture") { text in
            text.replacingOccurrences(of: "start:\n  on: offer.extended\n  key: application.id\n", with: "start:\n  key: application.id\n  on: offer.extended\n")
        }
        XCTAssertEqual(texts(d), [])
    }

    func testRenameIsReportedOnceAsARename() throws {
        let d = try diff("offer-nurture") { $0.replacingOccurrences(of: "follow_up", with: "check_in") }
        XCTAssertEqual(texts(d), ["~ state follow_up renamed to check_in"])
        XCTAssertEqual(d.renames, ["follow_up": "check_in"])
    }

    func testEveryKindOfChangeOnce() throws {
        let d = try diff("offer-nurture") { text in
            text.replacingOccurrences(of: "between: [36h, 48h]", with: "between: [24h, 36h]")
                .replacingOccurrences(of: "  reentry: ignore", with: "  reentry: restart")
                .replacingOccurrences(of: "timeout: 30d", with: "timeout: 21d")
                .replacingOccurrences(of: "      offer.viewed: viewed\n", with: "")
                .replacingOccurrences(of: "template: offer-check-in", with: "template: decline-feedback")
                .replacingOccurrences(of: "{delay: 24h, goto: call}\n  call:", with: "{delay: 12h, goto: call}\n  call:")
                .replacingOccurrences(of: "end: declined", with: "end: lost")
                .replacingOccurrences(of: "offer.accepted: {goto: accepted, if: event.data.offer.id == offer.id}",
                                      with: "offer.accepted: {goto: accepted, if: has(event.data.offer.id)}")
                + "  second_nudge:\n    do: [{slack: {text: \"nudge {{name}}\"}}]\n    on: {offer.accepted: accepted}\n"
        }
        let t = texts(d)
        XCTAssertEqual(t.filter { $0.hasPrefix("~ start.reentry: ignore → restart") }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ timeout: 30d → 21d" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ state extended: timer 'between 36h and 48h (calendar business-hours)' → 'between 24h and 36h (calendar business-hours)'" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "- transition extended --offer.viewed--> viewed" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ transition extended --offer.accepted [has(event.data.offer.id)]-->: guard event.data.offer.id == offer.id → has(event.data.offer.id)" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0.hasPrefix("~ state follow_up: action email decline-feedback: template 'offer-check-in' → 'decline-feedback'") }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ state follow_up: timer '24h' → '12h'" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ state declined: end declined → lost" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0.hasPrefix("+ state second_nudge (do: slack; on offer.accepted → accepted)") }.count, 1, "\(t)")
        XCTAssertEqual(t.count, 9, "\(t)")
        let added = d.changes.first { $0.text.hasPrefix("state second_nudge") }
        XCTAssertEqual(added?.file, "flows/offer-nurture.yaml")
        XCTAssertNotNil(added?.line)
    }

    func testChooseLetAndRequireChanges() throws {
        let d = try diff("assessment-segmentation") { text in
            text.replacingOccurrences(of: "percent >= 80", with: "percent >= 85")
                .replacingOccurrences(of: "(assessment.max_score ?? 100)", with: "(assessment.max_score ?? 50)")
                .replacingOccurrences(of: "require: [candidate.email, candidate.first_name, job.title]", with: "require: [candidate.email, candidate.first_name, job.title, recruiter.email]")
        }
        let t = texts(d)
        XCTAssertEqual(t.filter { $0.hasPrefix("~ state segment: choose percent >= 80") }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ let percent: assessment.score / (assessment.max_score ?? 100) * 100 → assessment.score / (assessment.max_score ?? 50) * 100" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0.hasPrefix("~ require:") }.count, 1, "\(t)")
        XCTAssertEqual(t.count, 3, "\(t)")
    }

    func testTemplatesAndCalendarsAreReportedUnderTheFlow() throws {
        let d = try diff("offer-nurture", files: [
            "templates/offer-check-in.yaml": { $0.replacingOccurrences(of: "Any questions", with: "Questions") },
            "hirewire.yaml": { $0.replacingOccurrences(of: "09:00-17:30", with: "09:00-17:00") },
        ]) { $0 }
        let t = texts(d)
        XCTAssertEqual(t, ["~ template offer-check-in: subject changed",
                           "~ calendar business-hours: candidate.timezone; mon-fri 09:00-17:30; holidays 2026-12-25, 2026-12-28, 2027-01-01 → candidate.timezone; mon-fri 09:00-17:00; holidays 2026-12-25, 2026-12-28, 2027-01-01"])
        XCTAssertEqual(d.changes.first?.file, "templates/offer-check-in.yaml")
    }

    func testInterviewJourneyTimerAndAddedAction() throws {
        let d = try diff("interview-scheduling") { text in
            text.replacingOccurrences(of: "at: interview.starts_at - 24h", with: "at: interview.starts_at - 48h")
                .replacingOccurrences(of: "      - email: {to: \"{{candidate.email}}\", template: interview-cancelled}\n",
                                      with: "      - email: {to: \"{{candidate.email}}\", template: interview-cancelled}\n      - task: {title: \"Rebook {{name}}\"}\n")
        }
        let t = texts(d)
        // The reminder timer is shared by two states through a YAML alias: both change.
        XCTAssertEqual(t.filter { $0.contains("timer 'at interview.starts_at - 24h' → 'at interview.starts_at - 48h'") }.count, 2, "\(t)")
        XCTAssertEqual(t.filter { $0 == "+ state cancelled: action task" }.count, 1, "\(t)")
        XCTAssertEqual(t.count, 3, "\(t)")
    }

    func testStartExitPolicyTransitionsAndRemovedActions() throws {
        let d = try diff("application-received") { text in
            text.replacingOccurrences(of: "  key: application.id\n  reentry: once", with: "  key: application.id\n  if: has(job.title)\n  reentry: once")
                .replacingOccurrences(of: "{on: candidate.rejected, outcome: rejected}", with: "{on: candidate.rejected, outcome: turned_down}")
                .replacingOccurrences(of: "quiet_hours: {from: \"21:00\"", with: "quiet_hours: {from: \"20:00\"")
                .replacingOccurrences(of: "    on:\n      candidate.stage_changed: advanced\n    after: {delay: 10d",
                                      with: "    on:\n      candidate.stage_changed: advanced\n      candidate.hired: advanced\n    after: {delay: 10d")
                .replacingOccurrences(of: "      - slack:\n          channel: \"#recruiting\"\n          text: \"New application from {{name}} for {{job.title}}{{#recruiter.name}} ({{recruiter.name}}){{/recruiter.name}}\"\n", with: "")
        }
        let t = texts(d)
        XCTAssertEqual(t.filter { $0 == "~ start.if: (none) → has(job.title)" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ exit[1]: on candidate.rejected → rejected → on candidate.rejected → turned_down" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "~ policy.quiet_hours: 21:00-08:00 in candidate.timezone → 20:00-08:00 in candidate.timezone" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "+ transition status_update --candidate.hired--> advanced" }.count, 1, "\(t)")
        XCTAssertEqual(t.filter { $0 == "- state received: action slack" }.count, 1, "\(t)")
        XCTAssertEqual(t.count, 5, "\(t)")
    }

    func testStartTriggerAndKeyChanges() throws {
        let d = try diff("offer-nurture") { text in
            // A one-item list is the same trigger; the key really changes.
            text.replacingOccurrences(of: "  on: offer.extended\n  key: application.id", with: "  on: [offer.extended]\n  key: offer.id")
        }
        XCTAssertEqual(texts(d), ["~ start.key: application.id → offer.id"])
        let trigger = try diff("interview-scheduling") { $0.replacingOccurrences(of: "  on: interview.scheduled\n", with: "  on: [interview.scheduled, interview.rescheduled]\n") }
        XCTAssertEqual(texts(trigger), ["~ start.on: interview.scheduled → interview.scheduled, interview.rescheduled"])
    }

    func testFormats() throws {
        let d = try diff("application-received") { $0.replacingOccurrences(of: "between: [5d, 6d]", with: "between: [3d, 4d]") }
        let text = DiffFormat.text.render([d])
        XCTAssertTrue(text.hasPrefix("application-received  v"), text)
        XCTAssertTrue(text.contains("  ~ state received: timer 'between 5d and 6d (calendar business-hours)' → 'between 3d and 4d (calendar business-hours)'  [flows/application-received.yaml:"), text)
        XCTAssertTrue(DiffFormat.text.render([d], color: true).contains("\u{1B}[33m"))
        let markdown = DiffFormat.markdown.render([d])
        XCTAssertTrue(markdown.contains("```diff\n! state received: timer"), markdown)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(DiffFormat.json.render([d]).utf8)) as? [String: Any])
        XCTAssertEqual(json["changed"] as? Bool, true)
        let change = try XCTUnwrap(((json["flows"] as? [[String: Any]])?.first?["changes"] as? [[String: Any]])?.first)
        XCTAssertEqual(change["op"] as? String, "~")
        XCTAssertEqual(change["element"] as? String, "timer")
    }
}
