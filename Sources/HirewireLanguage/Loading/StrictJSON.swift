import Foundation

/// The parts of JSON that libyaml's flow-style reading does not enforce: trailing commas,
/// comments and YAML-only escapes. The node builder checks everything that has a position;
/// this catches what remains with a scan that knows JSON's token grammar.
enum StrictJSON {
    /// True when `text` is a JSON number (`-0.5e3`, not `+1`, `.5`, `01` or `1.`).
    static func isNumber(_ text: String) -> Bool {
        var b = Array(text.utf8)[...]
        if b.first == UInt8(ascii: "-") { b = b.dropFirst() }
        guard let first = b.first, first >= 48, first <= 57 else { return false }
        if first == 48 {
            b = b.dropFirst()
        } else {
            while let c = b.first, c >= 48, c <= 57 { b = b.dropFirst() }
        }
        if b.first == UInt8(ascii: ".") {
            b = b.dropFirst()
            guard let c = b.first, c >= 48, c <= 57 else { return false }
            while let c = b.first, c >= 48, c <= 57 { b = b.dropFirst() }
        }
        if b.first == UInt8(ascii: "e") || b.first == UInt8(ascii: "E") {
            b = b.dropFirst()
            if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") { b = b.dropFirst() }
            guard let c = b.first, c >= 48, c <= 57 else { return false }
            while let c = b.first, c >= 48, c <= 57 { b = b.dropFirst() }
        }
        return b.isEmpty
    }

    /// Scans outside strings for comments and trailing commas, and inside strings for escapes
    /// that JSON does not have; throws at the first with its position.
    static func check(_ bytes: [UInt8], file: String) throws(Diagnostic) {
        var i = 0
        var lastSignificant: UInt8 = 0
        var lastSignificantAt = 0
        func fail(_ message: String, _ at: Int) -> Diagnostic {
            Diagnostic(at: UTF8Check.location(of: at, in: bytes, file: file), "not strict JSON: \(message)", code: "json-syntax")
        }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        let e = bytes[i + 1]
                        guard "\"\\/bfnrtu".utf8.contains(e) else {
                            throw fail("'\\\(Character(UnicodeScalar(e)))' is not a JSON escape", i)
                        }
                        i += 2
                        continue
                    }
                    if bytes[i] < 0x20 { throw fail("control character inside a string", i) }
                    i += 1
                }
                lastSignificant = UInt8(ascii: "\"")
                lastSignificantAt = i
            case UInt8(ascii: "#"):
                throw fail("comments are not allowed in JSON", i)
            case UInt8(ascii: "/"):
                throw fail("comments are not allowed in JSON", i)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") { throw fail("trailing comma", lastSignificantAt) }
                lastSignificant = c
                lastSignificantAt = i
            case 32, 9, 10, 13:
                break
            default:
                lastSignificant = c
                lastSignificantAt = i
            }
            i += 1
        }
    }
}
