import Foundation
import XCTest
@testable import HirewireLanguage

/// What the store writes with `jsonString()` must read back identical through the lean reader,
/// and read back as the flow-file loader reads it.
final class StoredJSONTests: XCTestCase {
    let samples: [Value] = [
        .null, true, false, 0, -1, 42, 72.5, -0.125, 1e21, 6.02e-23,
        "", "plain", "Zoë \"quoted\" \\ back\nslash\ttab\u{1}ctl", "emoji 🎉 and 中文", "true", "null", "12", "-",
        [], [:], [1, "two", [3, [4]], ["k": [:]]],
        ["candidate": ["id": "c1", "first_name": "Ada", "tags": ["a", "b"], "score": 88, "active": true, "notes": .null],
         "a key with spaces": "x", "": "empty key", "nested": ["deeper": ["deepest": [1, 2, 3]]]],
    ]

    func testEveryKindReadsBackIdentical() throws {
        for value in samples {
            let text = value.jsonString()
            XCTAssertEqual(Value.parseStoredJSON(text), value, text)
            XCTAssertEqual(Value.parseStoredJSON(text), Value.parseOwnJSON(text), "the lean reader and the loader agree on \(text)")
        }
    }

    func testTimestampsAndDurationsComeBackAsTheirText() {
        let at = Timestamp.parse("2026-03-02T14:00:00.250Z") ?? .distantPast
        let value: Value = ["at": .timestamp(at), "wait": .duration(129_600)]
        XCTAssertEqual(Value.parseStoredJSON(value.jsonString()), ["at": "2026-03-02T14:00:00.250Z", "wait": "1d12h"])
    }

    /// Characters YAML does not take raw (DEL, C1 controls, NEL, line and paragraph separators,
    /// the byte-order mark, U+FFFE/U+FFFF) are escaped, so a mis-encoded name in a webhook still
    /// reads back from the store exactly.
    func testCharactersYAMLRefusesRawAreEscapedAndReadBack() throws {
        let awkward = ["O\u{92}Brien", "del\u{7F}", "nel\u{85}line", "c1 \u{80}\u{9F}", "ls\u{2028}ps\u{2029}", "bom\u{FEFF}",
                       "non\u{FFFE}\u{FFFF}", "keep \u{A0}\u{85}\u{2027}\u{202A}\u{FFFD}é", "\u{7E}\u{7F}\u{80}"]
        for string in awkward {
            let value: Value = ["name": .string(string), string: [.string(string)]]
            let text = value.jsonString()
            XCTAssertEqual(Value.parseStoredJSON(text), value, text)
            XCTAssertEqual(try Value.parseJSON(text), value, "still standard JSON: \(text)")
        }
        XCTAssertEqual(Value.string("a\u{85}b\u{2028}").jsonString(), #""a\u0085b\u2028""#)
        XCTAssertEqual(Value.string("ok \u{A0}é").jsonString(), "\"ok \u{A0}é\"", "other characters stay as they are")
    }

    /// Plain text is scanned eight bytes at a time: a character that needs escaping is found at
    /// every position of a word and across word boundaries, and plain text stays as it is.
    func testEscapesAreFoundAtEveryOffset() throws {
        let specials = ["\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{7F}", "\u{85}", "\u{2028}", "\u{FEFF}", "é", "\u{FFFF}"]
        for special in specials {
            for offset in 0...17 {
                let string = String(repeating: "a", count: offset) + special + String(repeating: "z", count: 17 - offset)
                let text = Value.string(string).jsonString()
                XCTAssertEqual(try Value.parseJSON(text), .string(string), "\(offset): \(text)")
                XCTAssertEqual(Value.parseStoredJSON(text), .string(string), "\(offset): \(text)")
                if special != "é" { XCTAssertTrue(text.contains("\\"), "escaped at \(offset): \(text)") }
            }
        }
        // Strings shorter than a word, and the last bytes of longer ones, are checked as one
        // padded word: a special character at any place of such a tail is still found.
        for special in specials {
            for length in 1...9 {
                for place in 0..<length {
                    let string = String(repeating: "k", count: place) + special + String(repeating: "q", count: length - place - 1)
                    let text = Value.string(string).jsonString()
                    XCTAssertEqual(Value.parseStoredJSON(text), .string(string), "\(length)/\(place): \(text)")
                    if special != "é" { XCTAssertTrue(text.contains("\\"), "escaped at \(length)/\(place): \(text)") }
                }
            }
        }
        for short in ["a", "id", "at", "kind", "fields", "~ {x}"] {
            XCTAssertEqual(Value.string(short).jsonString(), "\"" + short + "\"")
        }
        let plain = String(repeating: "Senior Data Engineer ~ {x} [y] 0123456789 ", count: 3)
        XCTAssertEqual(Value.string(plain).jsonString(), "\"" + plain + "\"")
    }

    /// Rows written before those escapes hold the characters raw: libyaml refuses them, and
    /// the reader falls back to Foundation's parser rather than losing the record.
    func testRawCharactersInOlderRowsStillReadBack() {
        let raw = "{\"name\":\"O\u{92}Brien\",\"x\":\"\u{7F}\u{FFFE}\"}"
        XCTAssertNil(StoredJSONReader.read(raw), "libyaml refuses these raw")
        XCTAssertEqual(Value.parseStoredJSON(raw), ["name": "O\u{92}Brien", "x": "\u{7F}\u{FFFE}"])
    }

    func testNotJSONIsNil() {
        XCTAssertNil(Value.parseStoredJSON("{\"a\": "))
        XCTAssertNil(Value.parseStoredJSON("[1, 2"))
    }
}
