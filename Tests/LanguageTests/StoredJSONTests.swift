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

    func testNotJSONIsNil() {
        XCTAssertNil(Value.parseStoredJSON("{\"a\": "))
        XCTAssertNil(Value.parseStoredJSON("[1, 2"))
    }
}
