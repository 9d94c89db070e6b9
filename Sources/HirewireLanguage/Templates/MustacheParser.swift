/// Tokenizes and parses Mustache, applying the spec's standalone-line rules.
struct MustacheParser {
    private enum TagKind: Equatable {
        case variable(escaped: Bool), section, inverted, close, comment, partial, delimiters
        var canStandAlone: Bool {
            switch self {
            case .variable: return false
            default: return true
            }
        }
    }

    private struct Tag {
        var kind: TagKind
        var name: String
        var start: Int
        var end: Int
        var line: Int
        var column: Int
        var indent: String = ""
    }

    private enum Token {
        case text(Range<Int>)
        case tag(Tag)
    }

    private let s: [Unicode.Scalar]
    /// Line and column of each scalar index (computed lazily by `position`).
    private var lineStarts: [Int] = [0]

    init(_ source: String) {
        s = Array(source.unicodeScalars)
        for (i, c) in s.enumerated() where c == "\n" { lineStarts.append(i + 1) }
    }

    private func position(_ index: Int) -> (Int, Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, index - lineStarts[lo] + 1)
    }

    private func error(_ message: String, at index: Int) -> MustacheError {
        let (line, column) = position(index)
        return MustacheError(message: message, line: line, column: column)
    }

    private func matches(_ needle: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + needle.count <= s.count else { return false }
        for k in 0..<needle.count where s[i + k] != needle[k] { return false }
        return true
    }

    private func find(_ needle: [Unicode.Scalar], from: Int) -> Int? {
        guard !needle.isEmpty, from <= s.count - needle.count else { return nil }
        var i = from
        while i <= s.count - needle.count {
            if matches(needle, at: i) { return i }
            i += 1
        }
        return nil
    }

    private func text(_ r: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s[r])
        return String(out)
    }

    private func trimmed(_ r: Range<Int>) -> String {
        text(r).trimmingCharacters(in: .whitespaces)
    }

    mutating func parse() throws(MustacheError) -> [MustacheNode] {
        var tokens = try tokenize()
        applyStandalone(&tokens)
        var index = 0
        return try build(tokens, &index, closing: nil)
    }

    private func tokenize() throws(MustacheError) -> [Token] {
        var open: [Unicode.Scalar] = ["{", "{"], close: [Unicode.Scalar] = ["}", "}"]
        var tokens: [Token] = []
        var pos = 0
        while pos < s.count {
            guard let start = find(open, from: pos) else {
                tokens.append(.text(pos..<s.count))
                break
            }
            if start > pos { tokens.append(.text(pos..<start)) }
            var i = start + open.count
            var kind = TagKind.variable(escaped: true)
            var closer = close
            if i < s.count {
                switch s[i] {
                case "{" where open == ["{", "{"]:
                    kind = .variable(escaped: false); closer = ["}"] + close; i += 1
                case "&": kind = .variable(escaped: false); i += 1
                case "#": kind = .section; i += 1
                case "^": kind = .inverted; i += 1
                case "/": kind = .close; i += 1
                case "!": kind = .comment; i += 1
                case ">": kind = .partial; i += 1
                case "=": kind = .delimiters; i += 1
                default: break
                }
            }
            guard let end = find(closer, from: i) else {
                throw error("unclosed tag: expected '\(String(String.UnicodeScalarView(closer)))'", at: start)
            }
            let (line, column) = position(start)
            var name = trimmed(i..<end)
            if kind == .delimiters {
                guard name.hasSuffix("=") else { throw error("a set-delimiter tag ends with '='", at: start) }
                let parts = name.dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count == 2, !parts.contains(where: { $0.contains("=") }) else {
                    throw error("a set-delimiter tag takes two delimiters, such as {{=<% %>=}}", at: start)
                }
                open = Array(parts[0].unicodeScalars)
                close = Array(parts[1].unicodeScalars)
                name = ""
            } else if kind != .comment, name.isEmpty {
                throw error("empty tag", at: start)
            }
            tokens.append(.tag(Tag(kind: kind, name: name, start: start, end: end + closer.count, line: line, column: column)))
            pos = end + closer.count
        }
        return tokens
    }

    private func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }

    /// Removes the whitespace and newline around tags that stand alone on their line.
    private func applyStandalone(_ tokens: inout [Token]) {
        var tagIndices: [Int] = []
        for (i, t) in tokens.enumerated() { if case .tag = t { tagIndices.append(i) } }
        for (n, ti) in tagIndices.enumerated() {
            guard case .tag(var tag) = tokens[ti], tag.kind.canStandAlone else { continue }
            var lineStart = tag.start
            while lineStart > 0, isBlank(s[lineStart - 1]) { lineStart -= 1 }
            guard lineStart == 0 || s[lineStart - 1] == "\n" else { continue }
            if n > 0, case .tag(let previous) = tokens[tagIndices[n - 1]], previous.end > lineStart { continue }
            var lineEnd = tag.end
            while lineEnd < s.count, isBlank(s[lineEnd]) { lineEnd += 1 }
            var after = lineEnd
            if lineEnd < s.count {
                if s[lineEnd] == "\n" { after += 1 } else if s[lineEnd] == "\r", lineEnd + 1 < s.count, s[lineEnd + 1] == "\n" { after += 2 } else { continue }
            }
            if n + 1 < tagIndices.count, case .tag(let next) = tokens[tagIndices[n + 1]], next.start < after { continue }
            if ti > 0, case .text(let r) = tokens[ti - 1], r.upperBound == tag.start {
                tokens[ti - 1] = .text(r.lowerBound..<max(r.lowerBound, lineStart))
            }
            if ti + 1 < tokens.count, case .text(let r) = tokens[ti + 1], r.lowerBound == tag.end {
                tokens[ti + 1] = .text(min(after, r.upperBound)..<r.upperBound)
            }
            tag.indent = text(lineStart..<tag.start)
            tokens[ti] = .tag(tag)
        }
    }

    private func build(_ tokens: [Token], _ index: inout Int, closing: Tag?) throws(MustacheError) -> [MustacheNode] {
        var nodes: [MustacheNode] = []
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            switch token {
            case .text(let r):
                if !r.isEmpty { nodes.append(.text(text(r))) }
            case .tag(let tag):
                switch tag.kind {
                case .variable(let escaped):
                    nodes.append(.variable(name: MustacheName(tag.name), escaped: escaped, line: tag.line, column: tag.column))
                case .section, .inverted:
                    let children = try build(tokens, &index, closing: tag)
                    nodes.append(.section(name: MustacheName(tag.name), inverted: tag.kind == .inverted, children: children, line: tag.line, column: tag.column))
                case .close:
                    guard let open = closing else {
                        throw error("'{{/\(tag.name)}}' closes a section that was never opened", at: tag.start)
                    }
                    guard open.name == tag.name else {
                        throw error("'{{/\(tag.name)}}' does not match '{{#\(open.name)}}' opened at \(open.line):\(open.column)", at: tag.start)
                    }
                    return nodes
                case .partial:
                    nodes.append(.partial(name: tag.name, indent: tag.indent, line: tag.line, column: tag.column))
                case .comment, .delimiters:
                    break
                }
            }
        }
        if let open = closing {
            throw error("section '\(open.name)' is never closed (expected {{/\(open.name)}})", at: open.start)
        }
        return nodes
    }
}
