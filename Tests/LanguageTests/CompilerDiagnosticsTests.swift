import XCTest
@testable import HirewireLanguage

/// Every diagnostic code the compiler emits, each with its exact line and column.
final class CompilerDiagnosticsTests: XCTestCase {
    /// A valid flow; tests replace single lines to introduce one mistake each.
    static let baseLines = [
        "flow: demo",                                                                       // 1
        "start:",                                                                           // 2
        "  on: offer.extended",                                                             // 3
        "  key: application.id",                                                            // 4
        "let:",                                                                             // 5
        "  name: candidate.preferred_name ?? candidate.first_name",                         // 6
        "require: [candidate.email, candidate.first_name]",                                 // 7
        "states:",                                                                          // 8
        "  extended:",                                                                      // 9
        "    do:",                                                                          // 10
        "      - email: {to: \"{{candidate.email}}\", subject: \"Hi {{name}}\", text: \"Offer for {{name}}\"}", // 11
        "    on:",                                                                          // 12
        "      offer.accepted: accepted",                                                   // 13
        "      offer.declined: declined",                                                   // 14
        "    after: {delay: 48h, goto: follow_up}",                                         // 15
        "  follow_up:",                                                                     // 16
        "    do: [{slack: {channel: \"#offers\", text: \"Follow up with {{name}}\"}}]",     // 17
        "    on: {offer.accepted: accepted}",                                               // 18
        "  accepted: {end: hired}",                                                         // 19
        "  declined: {end: declined}",                                                      // 20
    ]

    static let config = """
        default_timezone: Europe/London
        env: [ONBOARDING_URL]
        calendars:
          business-hours:
            timezone: candidate.timezone
            hours: {mon-fri: "09:00-17:30"}
            holidays: ["2026-12-25"]
        """

    static let template = """
        subject: "Next steps for {{job.title}}"
        text: |
          Hi {{candidate.first_name}},
          {{#offer.expires_at}}The offer is open until {{offer.expires_at}}.{{/offer.expires_at}}
        """

    /// Compiles the base flow with `replacements` (line number → new text; nil deletes the line)
    /// plus `extra` lines appended, and returns the diagnostics.
    func diagnostics(_ replacements: [Int: String?] = [:], extra: [String] = [], files: [String: String] = [:]) throws -> [Diagnostic] {
        try Self.diagnostics(replacements, extra: extra, files: files)
    }

    static func diagnostics(_ replacements: [Int: String?] = [:], extra: [String] = [], files: [String: String] = [:]) throws -> [Diagnostic] {
        var lines: [String] = []
        for (i, line) in Self.baseLines.enumerated() {
            if let replacement = replacements[i + 1] {
                if let text = replacement { lines.append(text) }
            } else {
                lines.append(line)
            }
        }
        lines += extra
        var all = ["flows/demo.yaml": lines.joined(separator: "\n") + "\n", "hirewire.yaml": Self.config,
                   "templates/offer-next-steps.yaml": Self.template]
        all.merge(files) { _, new in new }
        let fixture = try ProjectFixture(files: all)
        defer { fixture.remove() }
        return fixture.compile().diagnostics
    }

    func testBaseFlowIsClean() throws {
        XCTAssertEqual(try diagnostics().map(\.description), [])
    }

    func testUnknownStateWithSuggestion() throws {
        let d = try diagnostics([13: "      offer.accepted: acepted"])
        assertDiagnostic(d, "unknown-state", 13, 23, contains: "did you mean 'accepted'?")
    }

    func testUnknownKeyWithSuggestion() throws {
        let d = try diagnostics([10: "    dp:"])
        assertDiagnostic(d, "unknown-key", 10, 5, contains: "did you mean 'do'?")
    }

    func testMissingKeyAtParent() throws {
        let d = try diagnostics([4: nil])
        assertDiagnostic(d, "missing-key", 2, 1, contains: "'key'")
    }

    func testUnreachableStateIsAWarning() throws {
        let d = try diagnostics(extra: ["  orphan: {end: lost}"])
        assertDiagnostic(d, "unreachable-state", 21, 3, severity: .warning)
    }

    func testNoWayOut() throws {
        let d = try diagnostics([18: nil])
        assertDiagnostic(d, "no-way-out", 16, 3)
    }

    func testChooseWithoutElse() throws {
        let d = try diagnostics([15: "    after: {delay: 48h, goto: segment}"],
                                extra: ["  segment:", "    choose:", "      - {if: has(offer.tier), goto: accepted}"])
        assertDiagnostic(d, "choose-without-else", 22, 5)
    }

    func testMigrateToAChooseState() throws {
        let d = try diagnostics([15: "    after: {delay: 48h, goto: segment}"],
                                extra: ["  segment:", "    choose:", "      - {if: has(offer.tier), goto: accepted}", "      - {else: declined}",
                                        "migrate: {extended: segment}"])
        assertDiagnostic(d, "migrate-to-choose", 25, 21)
    }

    func testFinalStateCannotTransition() throws {
        let d = try diagnostics([19: "  accepted: {end: hired, on: {offer.declined: declined}}"])
        assertDiagnostic(d, "final-state-transitions", 19, 3)
    }

    func testUnknownEventType() throws {
        let d = try diagnostics([13: "      offer.acepted: accepted"])
        assertDiagnostic(d, "unknown-event", 13, 7, contains: "did you mean 'offer.accepted'?")
    }

    func testCustomEventTypesNeedXPrefix() throws {
        XCTAssertEqual(try diagnostics([14: "      x.offer.nudged: declined"]).filter { $0.severity == .error }.map(\.code), [])
    }

    func testDuplicateFlowIds() throws {
        let second = Self.baseLines.joined(separator: "\n") + "\n"
        let d = try diagnostics(files: ["flows/zzz-copy.yaml": second])
        assertDiagnostic(d, "duplicate-flow", 1, 7, file: "flows/zzz-copy.yaml")
    }

    func testUnknownCalendar() throws {
        let d = try diagnostics([15: "    after: {between: [36h, 48h], calendar: busines-hours, goto: follow_up}"])
        assertDiagnostic(d, "unknown-calendar", 15, 44, contains: "did you mean 'business-hours'?")
    }

    func testInvalidDuration() throws {
        let d = try diagnostics([15: "    after: {delay: 48x, goto: follow_up}"])
        assertDiagnostic(d, "invalid-duration", 15, 22, contains: "after the number")
    }

    func testYAMLDuplicateKeyInFlow() throws {
        let d = try diagnostics([14: "      offer.accepted: declined"])
        assertDiagnostic(d, "duplicate-key", 14, 7)
    }
}
