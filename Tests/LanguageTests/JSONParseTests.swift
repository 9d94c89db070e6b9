import Foundation
import XCTest
@testable import HirewireLanguage

/// Payloads are read by `JSONSerialization`, not by decoding `Value` (five times the cost): both
/// must give the same values, and `true` must not read as `1`.
final class JSONParseTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testBooleansNumbersAndNullsKeepTheirKinds() throws {
        let text = #"[true, false, 1, 0, 1.5, -0, 1e3, 12345678901234567890, "1", "true", null, {"a": {"b": [true, 1]}}, []]"#
        XCTAssertEqual(try Value.parseJSON(text), .array([
            .bool(true), .bool(false), .number(1), .number(0), .number(1.5), .number(0), .number(1000), .number(Double("12345678901234567890") ?? 0),
            .string("1"), .string("true"), .null, .object(["a": .object(["b": .array([.bool(true), .number(1)])])]), .array([]),
        ]))
        XCTAssertEqual(try Value.parseJSON("true"), .bool(true), "a top-level scalar is JSON too")
        // Long decimals, as JavaScript and Python write them, read as the nearest double.
        for text in ["0.30000000000000004", "0.1234567890123456", "1.0000000000000002", "123456789.12345678", "-2.2250738585072014e-308"] {
            XCTAssertEqual(try Value.parseJSON(text), .number(Double(text) ?? .nan), text)
        }
        XCTAssertEqual(try Value.parseJSON(#""caf\u00e9 \ud83d\ude00""#), .string("café 😀"))
    }

    /// Every bundled payload and example reads the same both ways.
    func testEveryBundledJSONFileReadsAsJSONDecoderReadsIt() throws {
        let root = Self.repo + "/examples"
        let files = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThan(files.count, 20)
        for file in files {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: root + "/" + file))
            XCTAssertEqual(try Value.parseJSON(data), try JSONDecoder().decode(Value.self, from: data), file)
        }
    }

    func testBrokenJSONSaysWhereItBroke() {
        XCTAssertThrowsError(try Value.parseJSON("{\"a\": 1} trailing")) { error in
            let message = (error as? JSONDecodeError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("not valid JSON: "), message)
            XCTAssertTrue(message.contains("character 9"), message)
        }
        XCTAssertThrowsError(try Value.parseJSON("{\"a\": 1,\n \"b\": tru}"))
        XCTAssertThrowsError(try Value.parseJSON(""))
    }
}
