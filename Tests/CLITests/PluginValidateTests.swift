import Foundation
import XCTest
import HirewireTestSupport

/// `validate` checks plugin actions against the argument schema the plugin describes.
final class PluginValidateTests: XCTestCase {
    /// A one-state flow whose only action is `ACTION: ARGS` (on line 7, at column 9).
    func writeFlow(_ arguments: String, action: String = "crm_note.add", in project: String) throws {
        try """
            flow: offer-notes
            start: {on: offer.extended, key: application.id}
            initial: noted
            states:
              noted:
                do:
                  - \(action): \(arguments)
                end: done

            """.write(toFile: project + "/flows/offer-notes.yaml", atomically: true, encoding: .utf8)
    }

    /// A copy of the bundled project with the crm-note example plugin as `crm_note`; its config text.
    func projectWithThePlugin() throws -> (project: String, config: String) {
        let project = try copyOfBundledProject()
        var config = try String(contentsOfFile: project + "/hirewire.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "connectors:\n", with: "connectors:\n  crm_note: {plugin: examples/plugins/crm-note}\n")
        try config.write(toFile: project + "/hirewire.yaml", atomically: true, encoding: .utf8)
        return (project, config)
    }

    func testPluginArgumentsAreCheckedAgainstTheDescribedSchema() async throws {
        let (project, config) = try projectWithThePlugin()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try writeFlow(#"{candidate: "{{candidate.id}}", pinned: "yes", colour: red}"#, in: project)
        let bad = await hirewire(["validate"], in: project)
        XCTAssertEqual(bad.code, 1, bad.out + bad.err)
        XCTAssertTrue(bad.out.contains("flows/offer-notes.yaml:7:9: error: crm_note.add needs 'note'"), bad.out)
        XCTAssertTrue(bad.out.contains("flows/offer-notes.yaml:7:70: error: crm_note.add takes no argument 'colour'"), bad.out)
        XCTAssertTrue(bad.out.contains("flows/offer-notes.yaml:7:63: error: crm_note.add argument 'pinned'"), bad.out)

        try writeFlow(#"{candidate: "{{candidate.id}}", note: "Offer sent", pinned: true}"#, in: project)
        let good = await hirewire(["validate"], in: project)
        XCTAssertEqual(good.code, 0, good.out + good.err)

        // A plugin that cannot start is reported at its entry in hirewire.yaml.
        try config.replacingOccurrences(of: "examples/plugins/crm-note", with: "plugins/missing").write(toFile: project + "/hirewire.yaml", atomically: true, encoding: .utf8)
        let missing = await hirewire(["validate"], in: project)
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.out.contains("[plugin-unavailable]"), missing.out)
    }

    /// Flow tests name plugin actions the plugin has (`crm_note.ad` passed any `none_after`),
    /// and `crm_note`, `crm_note.add` and the short form `crm_note:` of a one-action plugin are
    /// the same action to an expectation.
    func testFlowTestsKnowThePluginsActions() async throws {
        let (project, _) = try projectWithThePlugin()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try writeFlow(#"{candidate: "{{candidate.id}}", note: "Offer sent"}"#, action: "crm_note", in: project)
        func test(_ expectations: String) throws {
            try """
                test: notes
                flow: offer-notes
                clock: 2026-03-02T10:00:00Z
                events:
                  - {at: +0m, type: offer.extended, data: {candidate: {id: c1}, application: {id: a1}, offer: {id: o1}}}
                expect:
                \(expectations)
                """.write(toFile: project + "/flows/tests/notes.test.yaml", atomically: true, encoding: .utf8)
        }
        try test("  - {count: 1, of: [crm_note.add]}\n  - {count: 1, of: [crm_note]}\n  - {at: +0m, crm_note.add: {note: Offer sent}}")
        let good = await hirewire(["test", "flows/tests/notes.test.yaml"], in: project)
        XCTAssertEqual(good.code, 0, good.out + good.err)
        try test("  - {count: 0, of: [crm_note.addd]}")
        let typo = await hirewire(["test", "flows/tests/notes.test.yaml"], in: project)
        XCTAssertEqual(typo.code, 1)
        XCTAssertTrue(typo.out.contains("notes.test.yaml:7:21: error: plugin 'crm_note' has no action 'addd' (did you mean 'crm_note.add'?)"), typo.out)
    }
}
