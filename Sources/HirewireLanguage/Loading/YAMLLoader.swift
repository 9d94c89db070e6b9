import CYaml
import Foundation

/// Loads YAML and JSON files into ``Node`` trees that keep the file, line and column of every
/// node. One loader serves both: libyaml reads JSON as YAML's flow style, and for `.json` files
/// the loader also insists on strict JSON.
public enum YAMLLoader {
    /// Bounds that protect the loader from hostile input.
    public struct Limits: Sendable {
        /// The most nodes that alias expansion may add to a document ("billion laughs").
        public var maxAliasExpansion: Int = 10_000
        /// The deepest nesting accepted.
        public var maxDepth: Int = 200
        public init() {}
    }

    /// Reads and loads a file. `displayPath` is what diagnostics print (usually project-relative).
    public static func loadFile(_ path: String, displayPath: String? = nil, limits: Limits = Limits()) throws(Diagnostic) -> Node {
        let shown = displayPath ?? path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(at: SourceLocation(file: shown, line: 1, column: 1), "cannot read file", code: "io-error")
        }
        return try load([UInt8](data), file: shown, json: path.hasSuffix(".json"), limits: limits)
    }

    /// Loads a document from text.
    public static func load(_ text: String, file: String, json: Bool = false, limits: Limits = Limits()) throws(Diagnostic) -> Node {
        try load(Array(text.utf8), file: file, json: json, limits: limits)
    }

    /// Loads a document from raw bytes, which must be UTF-8.
    public static func load(_ bytes: [UInt8], file: String, json: Bool = false, limits: Limits = Limits()) throws(Diagnostic) -> Node {
        if let bad = UTF8Check.firstInvalidOffset(bytes) {
            throw Diagnostic(at: UTF8Check.location(of: bad, in: bytes, file: file),
                             "file is not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at offset \(bad)); save it as UTF-8",
                             code: "encoding")
        }
        // A .json file is checked as JSON first: a comment or trailing comma is then reported
        // as what it is, not as the YAML error it also causes (`did not find expected <document
        // start>` for a comment after the closing brace).
        if json {
            try StrictJSON.check(bytes, file: file)
        }
        var builder = NodeBuilder(file: file, bytes: bytes, json: json, limits: limits)
        return try builder.run()
    }
}

/// Finds invalid UTF-8 and turns byte offsets into line/column positions.
enum UTF8Check {
    static func firstInvalidOffset(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            let length: Int
            if c < 0x80 { i += 1; continue }
            else if c >= 0xC2, c <= 0xDF { length = 2 }
            else if c >= 0xE0, c <= 0xEF { length = 3 }
            else if c >= 0xF0, c <= 0xF4 { length = 4 }
            else { return i }
            guard i + length <= b.count else { return i }
            for k in 1..<length where b[i + k] & 0xC0 != 0x80 { return i }
            // Overlong forms and surrogates.
            if c == 0xE0, b[i + 1] < 0xA0 { return i }
            if c == 0xED, b[i + 1] > 0x9F { return i }
            if c == 0xF0, b[i + 1] < 0x90 { return i }
            if c == 0xF4, b[i + 1] > 0x8F { return i }
            i += length
        }
        return nil
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func location(of offset: Int, in b: [UInt8], file: String) -> SourceLocation {
        var line = 1, column = 1
        var i = 0
        while i < min(offset, b.count) {
            if b[i] == 10 { line += 1; column = 1 } else if b[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
