import Foundation
import XCTest
@testable import HirewireLanguage

/// Runs every case of the Mustache specification (comments, delimiters, interpolation,
/// inverted, partials, sections) from Tests/LanguageTests/Fixtures/mustache.
final class MustacheSpecTests: XCTestCase {
    func testEveryConformanceCasePasses() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/mustache", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files.count, 6)
        var ran = 0
        var failures: [String] = []
        for file in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            let suite = try Value.parseJSON(data)
            for test in suite["tests"].arrayValue ?? [] {
                ran += 1
                let name = "\(file): \(test["name"].stringValue ?? "?")"
                var partials: [String: String] = [:]
                for (k, v) in test["partials"].objectValue ?? [:] { partials[k] = v.stringValue }
                do {
                    let template = try MustacheTemplate(test["template"].stringValue ?? "")
                    let output = try template.render(test["data"], partials: partials)
                    if output != test["expected"].stringValue {
                        failures.append("\(name): got \(output.debugDescription), expected \(test["expected"].stringValue.debugDescription)")
                    }
                } catch {
                    failures.append("\(name): \(error)")
                }
            }
        }
        XCTAssertEqual(ran, 136)
        XCTAssertEqual(failures, [])
    }

    func testStrictModeFailsOnMissingValueWithPosition() throws {
        let template = try MustacheTemplate("Hi {{candidate.first_name}},\nsee {{job.title}}")
        XCTAssertEqual(try template.render(["candidate": ["first_name": "Ada"], "job": ["title": "SRE"]], strict: true), "Hi Ada,\nsee SRE")
        XCTAssertThrowsError(try template.render(["candidate": ["first_name": "Ada"]], strict: true)) { error in
            let e = error as? MustacheError
            XCTAssertEqual(e?.line, 2)
            XCTAssertEqual(e?.column, 5)
            XCTAssertTrue(e?.message.contains("job.title") ?? false)
        }
        // Null counts as missing: a blank name never ships.
        XCTAssertThrowsError(try template.render(["candidate": ["first_name": nil], "job": ["title": "SRE"]], strict: true))
        // Non-strict rendering follows the spec: empty.
        XCTAssertEqual(try template.render(["candidate": ["first_name": "Ada"]]), "Hi Ada,\nsee ")
    }

    func testEscapingOnlyWhenAsked() throws {
        let template = try MustacheTemplate("{{x}} {{{x}}}")
        XCTAssertEqual(try template.render(["x": "<b>&"], escapeHTML: false), "<b>& <b>&")
        XCTAssertEqual(try template.render(["x": "<b>&"], escapeHTML: true), "&lt;b&gt;&amp; <b>&")
    }

    func testVariableAnalysisReportsGuards() throws {
        let template = try MustacheTemplate("""
            Hi {{name}}
            {{#candidate.preferred_name}}aka {{candidate.preferred_name}}{{/candidate.preferred_name}}
            {{^interview.link}}{{interview.location}}{{/interview.link}}
            """)
        let vars = template.variables
        XCTAssertEqual(vars.map(\.name), ["name", "candidate.preferred_name", "interview.location"])
        XCTAssertEqual(vars[1].sections, ["candidate.preferred_name"])
        XCTAssertEqual(vars[2].sections, [])
        XCTAssertEqual(vars[2].line, 3)
        XCTAssertEqual(vars[2].column, 20)
    }

    func testParseErrorsHavePositions() {
        func failure(_ text: String) -> MustacheError? {
            do { _ = try MustacheTemplate(text); return nil } catch { return error }
        }
        XCTAssertEqual(failure("a\n  {{#x}}b")?.description, "2:3: section 'x' is never closed (expected {{/x}})")
        XCTAssertEqual(failure("{{#a}}{{/b}}").map { "\($0.line):\($0.column)" }, "1:7")
        XCTAssertEqual(failure("hello {{name")?.column, 7)
        XCTAssertEqual(failure("{{/x}}")?.line, 1)
        XCTAssertEqual(failure("{{= a =}}")?.column, 1)
    }
}
