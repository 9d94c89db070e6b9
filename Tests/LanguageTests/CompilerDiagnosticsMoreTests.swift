import XCTest
@testable import HirewireLanguage

/// The remaining diagnostic codes, each at its exact line and column (see CompilerDiagnosticsTests
/// for the base flow these edit).
final class CompilerDiagnosticsMoreTests: XCTestCase {
    func d(_ replacements: [Int: String?] = [:], extra: [String] = [], files: [String: String] = [:]) throws -> [Diagnostic] {
        try CompilerDiagnosticsTests.diagnostics(replacements, extra: extra, files: files)
    }

    func testNonBooleanCondition() throws {
        let diags = try d([13: "      offer.accepted: {goto: accepted, if: candidate.email}"])
        assertDiagnostic(diags, "non-boolean-condition", 13, 44, contains: "has(candidate.email)")
    }

    func testNullableKey() throws {
        assertDiagnostic(try d([4: "  key: candidate.email"]), "nullable-key", 4, 8)
    }

    func testKeyWithFallbackIsAccepted() throws {
        XCTAssertEqual(try d([4: "  key: candidate.email ?? application.id"]).map(\.code), [])
    }

    func testStartIfCannotReadTheJourneyThatDoesNotExistYet() throws {
        assertDiagnostic(try d([3: "  on: offer.extended\n  if: has(vars.flag)"]), "start-if-root", 4, 11, contains: "before the journey exists")
        assertDiagnostic(try d([3: "  on: offer.extended\n  if: state.name == \"extended\""]), "start-if-root", 4, 7)
        XCTAssertEqual(try d([3: "  on: offer.extended\n  if: name != \"x\" && has(offer.id)"]).map(\.code), [], "a let name is fine")
    }

    /// `on_invalid` runs because a `require` field is missing: its templates may rely only on
    /// what the start event's type requires (it checked `candidate.email` as present, and the
    /// action failed every time it ran).
    func testOnInvalidTemplatesTreatRequireFieldsAsMissing() throws {
        let unguarded = try d([7: "require: [candidate.email, candidate.first_name]\npolicy:\n  on_invalid: [{slack: {text: \"no email for {{candidate.email}} on {{offer.id}}\"}}]"])
        assertDiagnostic(unguarded, "unguarded-variable", 9, 45, contains: "candidate.email")
        XCTAssertEqual(unguarded.filter { $0.code == "unguarded-variable" }.count, 1, "offer.id is required by offer.extended itself: \(unguarded)")
        let named = try d([7: "require: [candidate.email, candidate.first_name]\npolicy:\n  on_invalid: [{slack: {text: \"no email for {{name}}\"}}]"])
        assertDiagnostic(named, "unguarded-variable", 9, 45, contains: "name")
        let guarded = try d([7: "require: [candidate.email, candidate.first_name]\npolicy:\n  on_invalid: [{slack: {text: \"no email for {{#candidate.first_name}}{{candidate.first_name}}{{/candidate.first_name}} {{application.id}}\"}}]"])
        XCTAssertEqual(guarded.map(\.code), [])
    }

    func testLetShadowsRoot() throws {
        assertDiagnostic(try d([6: "  candidate: job.title"]), "let-shadows-root", 6, 3)
    }

    func testExpressionSyntaxColumn() throws {
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"offer.id ==\"}"]), "expression-syntax", 13, 56)
    }

    func testExpressionTypeColumn() throws {
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"job.title - 1 > 0\"}"]), "expression-type", 13, 57)
    }

    func testUnknownFunctionAndArity() throws {
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"hass(offer.id)\"}"]), "unknown-function", 13, 45,
                         contains: "did you mean 'has'?")
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"has(offer.id, job.id)\"}"]), "wrong-arity", 13, 45)
    }

    func testUnknownNameAndField() throws {
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"ofer.id == 'x'\"}"]), "unknown-name", 13, 45,
                         contains: "did you mean 'offer'?")
        assertDiagnostic(try d([13: "      offer.accepted: {goto: accepted, if: \"offer.idd == 'x'\"}"]), "unknown-field", 13, 45,
                         contains: "did you mean 'id'?")
    }

    func testUnknownEnv() throws {
        assertDiagnostic(try d([17: "    do: [{http: {method: POST, url: \"{{env.ONBORDING_URL}}\"}}]"]), "unknown-env", 17, 38,
                         contains: "ONBOARDING_URL")
    }

    func testTimerAtMustBeTimestamp() throws {
        assertDiagnostic(try d([15: "    after: {at: job.title, goto: follow_up}"]), "not-a-timestamp", 15, 17)
    }

    func testRequireMustBePath() throws {
        assertDiagnostic(try d([7: "require: [candidate.email, \"lower(candidate.first_name)\"]"]), "require-not-path", 7, 29)
    }

    func testUnknownConnectorArgumentAndMissing() throws {
        assertDiagnostic(try d([17: "    do: [{slak: {text: hi}}]"]), "unknown-connector", 17, 11, contains: "did you mean 'slack'?")
        assertDiagnostic(try d([17: "    do: [{slack: {text: hi, chanel: x}}]"]), "unknown-argument", 17, 29, contains: "did you mean 'channel'?")
        assertDiagnostic(try d([17: "    do: [{slack: {channel: x}}]"]), "missing-argument", 17, 11)
    }

    func testUnknownTemplate() throws {
        assertDiagnostic(try d([11: "      - email: {to: \"{{candidate.email}}\", template: offer-nxt-steps}"]), "unknown-template", 11, 54,
                         contains: "did you mean 'offer-next-steps'?")
    }

    func testTemplateSyntaxInArgument() throws {
        assertDiagnostic(try d([17: "    do: [{slack: {text: \"Hi {{#name}} there\"}}]"]), "template-syntax", 17, 29)
    }

    func testUnguardedVariableInInlineTemplate() throws {
        assertDiagnostic(try d([17: "    do: [{slack: {text: \"Call {{candidate.phone}}\"}}]"]), "unguarded-variable", 17, 31)
    }

    func testGuardsSilenceUnguardedVariable() throws {
        XCTAssertEqual(try d([17: "    do: [{slack: {text: \"Call {{candidate.phone}}\"}, if: has(candidate.phone)}]"]).map(\.code), [])
        XCTAssertEqual(try d([17: "    do: [{slack: {text: \"{{#candidate.phone}}Call {{candidate.phone}}{{/candidate.phone}}\"}}]"]).map(\.code), [])
        XCTAssertEqual(try d([17: "    do: [{slack: {text: \"{{#candidate.phone}}Call {{.}}{{/candidate.phone}}\"}}]"]).map(\.code), [])
    }

    func testUnguardedVariableInTemplateFile() throws {
        let template = "subject: \"Hi\"\ntext: |\n  Hello {{name}},\n  call {{candidate.phone}}\n"
        let diags = try d([11: "      - email: {to: \"{{candidate.email}}\", template: offer-next-steps}"],
                          files: ["templates/offer-next-steps.yaml": template])
        assertDiagnostic(diags, "unguarded-variable", 4, 8, file: "templates/offer-next-steps.yaml", contains: "template used at flows/demo.yaml:11:54")
    }

    func testTemplateFileSyntaxError() throws {
        let diags = try d(files: ["templates/offer-next-steps.yaml": "subject: \"Hi {{name\"\ntext: ok\n"])
        assertDiagnostic(diags, "template-syntax", 1, 14, file: "templates/offer-next-steps.yaml")
    }

    func testInvalidValue() throws {
        assertDiagnostic(try d([4: "  key: application.id\n  reentry: sometimes"]), "invalid-value", 5, 12, contains: "ignore, restart, once")
    }

    func testQuietHoursTime() throws {
        let diags = try d(extra: ["policy:", "  quiet_hours: {from: \"25:00\", to: \"08:00\", timezone: candidate.timezone}"])
        assertDiagnostic(diags, "invalid-time", 22, 23)
    }

    func testChooseElseNotLastAndChooseWithTransitions() throws {
        let diags = try d([15: "    after: {delay: 48h, goto: segment}"],
                          extra: ["  segment:", "    choose:", "      - else: accepted", "      - {if: has(offer.tier), goto: declined}",
                                  "    on: {offer.viewed: accepted}"])
        assertDiagnostic(diags, "choose-else-not-last", 23, 9)
        assertDiagnostic(diags, "choose-with-transitions", 22, 5)
    }

    func testOnErrorInFinalState() throws {
        let diags = try d([19: "  accepted: {end: hired, do: [{slack: {text: hi}, on_error: {goto: declined}}]}"])
        assertDiagnostic(diags, "on-error-in-final-state", 19, 68)
    }

    func testRequiredFieldsAreNotNullableInTemplates() throws {
        // candidate.email is required by `require`, so the base flow's email to: is fine; drop it and it is not.
        let diags = try d([7: "require: [candidate.first_name]"])
        assertDiagnostic(diags, "unguarded-variable", 11, 22)
    }

    func testCalendarProblems() throws {
        let config = """
            default_timezone: Mars/Base
            calendars:
              business-hours:
                timezone: candidate.timezone
                hours: {mon-fry: "09:00-17:30"}
                holidays: ["2026-13-01"]
              office:
                timezone: "'Moon/Crater'"
                hours: {mon: "17:00-09:00"}
            """
        let diags = try d(files: ["hirewire.yaml": config])
        let calendar = diags.filter { $0.code == "invalid-calendar" }.map { "\($0.location.line):\($0.location.column)" }.sorted()
        XCTAssertEqual(calendar, ["5:13", "6:16", "9:18"])
        XCTAssertEqual(diags.filter { $0.code == "unknown-timezone" }.map { "\($0.location.line):\($0.location.column)" }.sorted(), ["1:19", "8:16"])
    }

    /// A `let` name sees only the names above it: reading a later one, or itself, says so (it
    /// said "unknown name", as for a typo) and is reported once, not again at every template tag.
    func testLetOrder() throws {
        let later = try d([6: "  name: greeting ?? candidate.first_name\n  greeting: candidate.preferred_name"])
        assertDiagnostic(later, "let-order", 6, 9, contains: "move 'greeting' up")
        XCTAssertEqual(later.map(\.code), ["let-order"], "\(later)")
        assertDiagnostic(try d([6: "  name: name ?? candidate.first_name"]), "let-order", 6, 9, contains: "reads itself")
        XCTAssertEqual(try d([6: "  greeting: candidate.preferred_name\n  name: greeting ?? candidate.first_name"]).map(\.code), [])
        assertDiagnostic(try d([6: "  name: greting ?? candidate.first_name"]), "unknown-name", 6, 9)
    }

    /// Quiet hours read their zone as a calendar does: a bare IANA name is a name (it read as a
    /// division, `unknown name 'Europe'`), and a quoted name that is no zone is an error at
    /// compile time (it passed, and every message fell back to default_timezone).
    func testQuietHoursZoneAsACalendarReadsIt() throws {
        let quiet = { (zone: String) in "require: [candidate.email, candidate.first_name]\npolicy:\n  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: \(zone)}" }
        XCTAssertEqual(try d([7: quiet("Europe/London")]).map(\.code), [])
        XCTAssertEqual(try d([7: quiet("candidate.timezone ?? \"Europe/London\"")]).map(\.code), [])
        assertDiagnostic(try d([7: quiet("'\"Europe/Lndon\"'")]), "unknown-timezone", 9, 56, contains: "Europe/Lndon")
        assertDiagnostic(try d([7: quiet("'\"EST\"'")]), "unknown-timezone", 9, 56)
    }

    func testFlowTestNamesUnknownFlowAndEvent() throws {
        let test = """
            test: example
            flow: dmeo
            clock: 2026-03-02T09:00:00-05:00
            events:
              - {at: +0m, type: offer.extendd, data: {}}
            """
        let diags = try d(files: ["flows/demo.test.yaml": test])
        assertDiagnostic(diags, "unknown-flow", 2, 7, file: "flows/demo.test.yaml", contains: "did you mean 'demo'?")
        assertDiagnostic(diags, "unknown-event", 5, 21, file: "flows/demo.test.yaml")
    }

    func testSourceChecks() throws {
        let source = """
            source: greenhouse
            signature: {scheme: greenhose, secret: env.GREENHOUSE_SECRET}
            event_id: header("Greenhouse-Event-ID") ?? sha256(body)
            events:
              - when: body.action == "offer_created"
                type: offer.extended
                occurred_at: body.payload.offer.created_at
                data:
                  candidate.id: string(body.payload.offer.candidate_id)
                  application.idd: string(body.payload.offer.application_id)
                  offer.id: string(body.payload.offer.id)
              - when: bdy.action == "x"
                type: offer.viewed
                data: {application.id: "string(body.a)", offer.id: "body.b"}
            """
        let diags = try d(files: ["sources/greenhouse.yaml": source])
        assertDiagnostic(diags, "unknown-scheme", 2, 21, file: "sources/greenhouse.yaml", contains: "did you mean 'greenhouse'?")
        assertDiagnostic(diags, "unknown-field", 10, 7, file: "sources/greenhouse.yaml")
        assertDiagnostic(diags, "missing-field", 6, 11, file: "sources/greenhouse.yaml", contains: "application.id")
        assertDiagnostic(diags, "unknown-name", 12, 11, file: "sources/greenhouse.yaml", contains: "did you mean 'body'?")
    }

    func testIOErrorForMissingRef() throws {
        let test = "test: t\nflow: demo\nclock: 2026-03-02T09:00:00Z\nevents:\n  - {at: +0m, type: offer.extended, data: {$ref: ../examples/nope.json}}\n"
        assertDiagnostic(try d(files: ["flows/demo.test.yaml": test]), "io-error", 5, 50, file: "flows/demo.test.yaml")
    }

    func testYAMLSyntaxAndAliasLimitPositions() throws {
        assertDiagnostic(try d(files: ["flows/broken.yaml": "flow: broken\nstates:\n  a: [b\n"]), "yaml-syntax", 4, 1, file: "flows/broken.yaml")
        var bomb = "flow: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...4 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        assertDiagnostic(try d(files: ["flows/bomb.yaml": bomb]), "alias-limit", 5, 45, file: "flows/bomb.yaml")
    }

    func testAllDiagnosticsAreCollected() throws {
        let diags = try d([13: "      offer.accepted: acepted", 14: "      offer.declnied: declined", 10: "    dp:"])
        XCTAssertEqual(Set(diags.map(\.code)), ["unknown-state", "unknown-event", "unknown-key"])
    }

    func testYAMLSyntaxErrorKeepsOtherFilesChecked() throws {
        let diags = try d(files: ["flows/broken.yaml": "flow: broken\nstart: {on: offer.extended\n"])
        XCTAssertEqual(diags.filter { $0.location.file == "flows/broken.yaml" }.map(\.code), ["yaml-syntax"])
        XCTAssertFalse(diags.contains { $0.location.file == "flows/demo.yaml" })
    }

    func testJSONFlowIsAccepted() throws {
        let json = #"{"flow": "json-demo", "start": {"on": "offer.extended", "key": "application.id"}, "states": {"a": {"end": "done"}}}"#
        let fixture = try ProjectFixture(files: ["flows/demo.json": json])
        defer { fixture.remove() }
        let compiled = fixture.compile()
        XCTAssertEqual(compiled.diagnostics.map(\.description), [])
        XCTAssertNotNil(compiled.machines["json-demo"])
    }
}
