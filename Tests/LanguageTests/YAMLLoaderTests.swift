import XCTest
@testable import HirewireLanguage

final class YAMLLoaderTests: XCTestCase {
    private func load(_ text: String, json: Bool = false) throws -> Node {
        try YAMLLoader.load(text, file: json ? "t.json" : "t.yaml", json: json)
    }

    private func failure(_ text: String, json: Bool = false) -> Diagnostic? {
        do {
            _ = try YAMLLoader.load(text, file: json ? "t.json" : "t.yaml", json: json)
            return nil
        } catch {
            return error
        }
    }

    func testPositionsOfEveryNode() throws {
        let root = try load("flow: offer\nstates:\n  extended:\n    on: {offer.viewed: viewed}\n")
        XCTAssertEqual(root.location.line, 1)
        let states = try XCTUnwrap(root["states"])
        XCTAssertEqual(states.location.line, 3)
        XCTAssertEqual(states.location.column, 3)
        let target = try XCTUnwrap(states["extended"]?["on"]?["offer.viewed"])
        XCTAssertEqual(target.scalar, "viewed")
        XCTAssertEqual(target.location.line, 4)
        XCTAssertEqual(target.location.column, 24)
        XCTAssertEqual(root.pair("states")?.key.location.column, 1)
    }

    func testScalarsStayTextUntilAskedYAML12Core() throws {
        let root = try load("a: on\nb: yes\nc: 20:00\nd: 12\ne: '12'\nf: ~\ng: true\n")
        XCTAssertEqual(root["a"]?.toValue(), "on")
        XCTAssertEqual(root["b"]?.toValue(), "yes")
        XCTAssertEqual(root["c"]?.toValue(), "20:00")
        XCTAssertEqual(root["d"]?.toValue(), 12)
        XCTAssertEqual(root["e"]?.toValue(), "12")
        XCTAssertEqual(root["f"]?.toValue(), .null)
        XCTAssertEqual(root["g"]?.toValue(), true)
    }

    func testColumnsCountCharactersNotBytes() throws {
        let root = try load("name: \"Zoë\"\nnext: x\nother: {é: 1, k: v}\n")
        XCTAssertEqual(root["other"]?["k"]?.location.column, 18)
    }

    func testDuplicateKeyPointsAtSecondKey() {
        let d = failure("flow: a\nstates: {}\nflow: b\n")
        XCTAssertEqual(d?.code, "duplicate-key")
        XCTAssertEqual(d?.location.line, 3)
        XCTAssertEqual(d?.location.column, 1)
        XCTAssertTrue(d?.message.contains("first defined at 1:1") ?? false)
    }

    /// A duplicate key no longer hides what comes after it: every duplicate, and a syntax error
    /// further down, are reported in one pass (the second showed only once the first was fixed).
    func testDuplicateKeysAndALaterSyntaxErrorAreAllReported() {
        let d = failure("flow: a\nflow: b\nstates: {}\nstates: {}\nrequire: [a, b\n")
        XCTAssertEqual(d?.all.map { "\($0.location.line):\($0.location.column) \($0.code)" },
                       ["2:1 duplicate-key", "4:1 duplicate-key", "6:1 yaml-syntax"], "\(d?.all ?? [])")
        XCTAssertEqual(failure("flow: a\nflow: b\n")?.all.map(\.code), ["duplicate-key"])
    }

    func testTabIndentationIsExplained() {
        let d = failure("states:\n\tfoo: bar\n")
        XCTAssertEqual(d?.code, "yaml-syntax")
        XCTAssertEqual(d?.location.line, 2)
        XCTAssertTrue(d?.message.contains("tab") ?? false, d?.message ?? "")
    }

    func testTagsAreErrors() {
        let d = failure("if: !has(x)\n")
        XCTAssertEqual(d?.code, "yaml-tag")
        XCTAssertEqual(d?.location.line, 1)
        XCTAssertEqual(d?.location.column, 5)
        XCTAssertTrue(d?.message.contains("must be quoted") ?? false)
    }

    func testUnquotedColonSpaceHint() {
        let d = failure("if: a ? b: c\n")
        XCTAssertEqual(d?.code, "yaml-syntax")
        XCTAssertTrue(d?.message.contains("must be quoted") ?? false, d?.message ?? "")
    }

    /// A value YAML reads as a quoted string, a list or a map, followed by more: the expression
    /// it was meant to be must be quoted as a whole (it said only "did not find expected key").
    func testAnExpressionThatStartsLikeYAMLMustBeQuotedWhole() {
        for (text, opener) in [("start:\n  on: x\n  if: \"exec\" != offer.tier\n", "a double quote"),
                               ("start:\n  if: 'exec' != offer.tier\n  on: x\n", "a single quote"),
                               ("start:\n  on: x\n  if: [1] == [1]\n", "'['")] {
            let d = failure(text)
            XCTAssertEqual(d?.code, "yaml-syntax", text)
            XCTAssertTrue(d?.message.contains("starts with \(opener) and goes on after it") ?? false, d?.message ?? "")
            XCTAssertTrue(d?.message.contains("must be quoted as a whole") ?? false, d?.message ?? "")
        }
        // A plain mistake elsewhere gets no such hint.
        XCTAssertFalse(failure("a: [1, 2\n")?.message.contains("as a whole") ?? true)
    }

    func testUnknownAliasMentionsQuoting() {
        let d = failure("key: *candidate\n")
        XCTAssertEqual(d?.code, "yaml-syntax")
        XCTAssertTrue(d?.message.contains("'*'") ?? false)
    }

    func testAnchorsAndAliasesWork() throws {
        let root = try load("base: &b {x: 1}\nother: *b\n")
        XCTAssertEqual(root["other"]?.toValue(), ["x": 1])
        XCTAssertEqual(root["other"]?.location.line, 2)
    }

    func testAliasBombIsBounded() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let d = failure(text)
        XCTAssertEqual(d?.code, "alias-limit")
    }

    func testNonUTF8IsRejectedWithPosition() {
        var bytes = Array("flow: a\nname: ".utf8)
        bytes += [0xC3, 0x28]
        do {
            _ = try YAMLLoader.load(bytes, file: "t.yaml")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.code, "encoding")
            XCTAssertEqual(error.location.line, 2)
            XCTAssertEqual(error.location.column, 7)
        }
    }

    func testSecondDocumentIsRejected() {
        XCTAssertEqual(failure("a: 1\n---\nb: 2\n")?.location.line, 2)
    }

    func testEmptyFileIsAnEmptyMapping() throws {
        XCTAssertEqual(try load("# only a comment\n").pairs?.count, 0)
        XCTAssertEqual(try load("").location.line, 1)
    }

    func testStrictJSONAccepted() throws {
        let root = try load(#"{"flow": "a", "n": -1.5e3, "ok": true, "none": null, "list": [1, "x"]}"#, json: true)
        XCTAssertEqual(root["n"]?.toValue(), .number(-1500))
        XCTAssertEqual(root["list"]?.location.column, 62)
    }

    func testJSONEdgeCasesRejected() {
        XCTAssertEqual(failure(#"{flow: "a"}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure(#"{"flow": 'a'}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure(#"{"flow": a}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure(#"{"n": 01}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure(#"{"n": +1}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure("flow: a\n", json: true)?.code, "json-syntax")
        let trailing = failure("{\"a\": [1, 2,]}", json: true)
        XCTAssertEqual(trailing?.code, "json-syntax")
        XCTAssertEqual(trailing?.location.column, 12)
        XCTAssertEqual(failure("{\"a\": 1 # no\n}", json: true)?.location.column, 9)
        XCTAssertEqual(failure(#"{"a": "\x41"}"#, json: true)?.code, "json-syntax")
        XCTAssertEqual(failure(#"{"a": 1, "a": 2}"#, json: true)?.code, "duplicate-key")
        XCTAssertEqual(failure(#"{"a": &x 1}"#, json: true)?.code, "json-syntax")
        // Comments are reported as comments, wherever they are (after the closing brace it was
        // a YAML error about a document start, and a // line an unquoted YAML value).
        for text in ["{\"a\": 1}\n# done\n", "{\n  // the flow\n  \"a\": 1\n}\n", "{\"a\": 1} /* end */"] {
            let d = failure(text, json: true)
            XCTAssertEqual(d?.code, "json-syntax", text)
            XCTAssertTrue(d?.message.contains("comments are not allowed") ?? false, "\(text): \(d?.message ?? "")")
        }
    }
}
