import CYaml

/// Drives libyaml's event parser and assembles ``Node`` values, checking duplicate keys,
/// tags, alias bounds and (for `.json` files) JSON-only constructs along the way.
struct NodeBuilder {
    private enum Frame {
        case sequence(start: SourceLocation, anchor: String?, items: [Node], size: Int)
        case mapping(start: SourceLocation, anchor: String?, pairs: [Node.Pair], pendingKey: Node?, seen: [String: SourceLocation], size: Int)
    }

    let file: String
    let bytes: [UInt8]
    let json: Bool
    let limits: YAMLLoader.Limits
    private var stack: [Frame] = []
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var expanded = 0
    private var root: Node?
    /// Duplicate keys met so far: the file is refused at the end, with every one of them.
    private var duplicates: [Diagnostic] = []
    private var documents = 0

    init(file: String, bytes: [UInt8], json: Bool, limits: YAMLLoader.Limits) {
        self.file = file
        self.bytes = bytes
        self.json = json
        self.limits = limits
    }

    private func loc(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    mutating func run() throws(Diagnostic) -> Node {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "YAML parser could not start", code: "yaml-syntax")
        }
        defer { yaml_parser_delete(&parser) }
        let input = bytes
        return try input.withUnsafeBufferPointer { (buffer) throws(Diagnostic) -> Node in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw Self.joined(duplicates + [syntaxError(parser)])
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                do throws(Diagnostic) {
                    try handle(event)
                } catch {
                    throw Self.joined(duplicates + [error])
                }
            }
            if !duplicates.isEmpty { throw Self.joined(duplicates) }
            // An empty file (or one with only comments) is an empty mapping: readers then report
            // the keys a file of its kind needs, and an empty hirewire.yaml means the defaults.
            return root ?? Node(.mapping([]), at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// The first of `diagnostics`, carrying the others.
    private static func joined(_ diagnostics: [Diagnostic]) -> Diagnostic {
        guard var first = diagnostics.first else { return Diagnostic(at: SourceLocation(file: "", line: 1, column: 1), "syntax error", code: "yaml-syntax") }
        first.also = Array(diagnostics.dropFirst())
        return first
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    private mutating func handle(_ event: yaml_event_t) throws(Diagnostic) {
        let at = loc(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw Diagnostic(at: at, "a file holds one document; found a second '---'", code: "yaml-syntax")
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            try checkTag(data.tag, at: at)
            let length = Int(data.length)
            let text: String
            if let value = data.value {
                text = String(decoding: UnsafeBufferPointer(start: value, count: length), as: UTF8.self)
            } else {
                text = ""
            }
            let style: ScalarStyle
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            if json { try checkJSONScalar(text, style: style, at: at) }
            let place = (style == .literal || style == .folded) ? blockContentStart(after: event.start_mark) : at
            try add(Node(.scalar(text, style), at: place), size: 1, anchor: string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = string(event.data.alias.anchor) ?? ""
            if json { throw notJSON("an alias", at: at) }
            guard let target = anchors[name] else {
                throw Diagnostic(at: at, "unknown alias '*\(name)' (an expression that starts with '*' must be quoted)", code: "yaml-syntax")
            }
            expanded += target.size
            if expanded > limits.maxAliasExpansion {
                throw Diagnostic(at: at, "aliases expand to more than \(limits.maxAliasExpansion) nodes; refusing to expand further", code: "alias-limit")
            }
            var copy = target.node
            copy.location = at
            try add(copy, size: target.size, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            try checkTag(data.tag, at: at)
            if json, data.style != YAML_FLOW_SEQUENCE_STYLE { throw notJSON("a block-style list", at: at) }
            try push(.sequence(start: at, anchor: string(data.anchor), items: [], size: 1), at: at)
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            try checkTag(data.tag, at: at)
            if json, data.style != YAML_FLOW_MAPPING_STYLE { throw notJSON("a block-style mapping", at: at) }
            try push(.mapping(start: at, anchor: string(data.anchor), pairs: [], pendingKey: nil, seen: [:], size: 1), at: at)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            switch frame {
            case .sequence(let start, let anchor, let items, let size):
                try add(Node(.sequence(items), at: start), size: size, anchor: anchor)
            case .mapping(let start, let anchor, let pairs, _, _, let size):
                try add(Node(.mapping(pairs), at: start), size: size, anchor: anchor)
            }
        default:
            break
        }
    }

    /// Where a block scalar's content starts: the line after its `|` or `>` indicator, at the
    /// indentation of its first non-blank line (so template positions map onto the file).
    private func blockContentStart(after mark: yaml_mark_t) -> SourceLocation {
        var i = Int(mark.index)
        while i < bytes.count, bytes[i] != 10 { i += 1 }
        i += 1
        var indent = 0
        var k = i
        while k < bytes.count {
            var spaces = 0
            while k < bytes.count, bytes[k] == 32 { spaces += 1; k += 1 }
            if k < bytes.count, bytes[k] != 10, bytes[k] != 13 {
                indent = spaces
                break
            }
            while k < bytes.count, bytes[k] != 10 { k += 1 }
            k += 1
        }
        return SourceLocation(file: file, line: Int(mark.line) + 2, column: indent + 1)
    }

    private mutating func push(_ frame: Frame, at: SourceLocation) throws(Diagnostic) {
        if stack.count >= limits.maxDepth {
            throw Diagnostic(at: at, "nesting deeper than \(limits.maxDepth) levels", code: "yaml-syntax")
        }
        stack.append(frame)
    }

    private mutating func add(_ node: Node, size: Int, anchor: String?) throws(Diagnostic) {
        if let anchor {
            if json { throw notJSON("an anchor", at: node.location) }
            anchors[anchor] = (node, size)
        }
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let start, let a, var items, let total):
            items.append(node)
            stack.append(.sequence(start: start, anchor: a, items: items, size: total + size))
        case .mapping(let start, let a, var pairs, let pendingKey, var seen, let total):
            if let key = pendingKey {
                pairs.append(Node.Pair(key: key, value: node))
                stack.append(.mapping(start: start, anchor: a, pairs: pairs, pendingKey: nil, seen: seen, size: total + size))
            } else {
                guard let name = node.scalar else {
                    throw Diagnostic(at: node.location, "mapping keys must be plain text, not \(node.kindDescription)", code: "yaml-syntax")
                }
                if json, node.style != .doubleQuoted { throw notJSON("an unquoted key", at: node.location) }
                if let first = seen[name] {
                    // Noted, and the file read on, so a later mistake in it is reported too.
                    duplicates.append(Diagnostic(at: node.location, "duplicate key '\(name)' (first defined at \(first.line):\(first.column))",
                                                 code: "duplicate-key"))
                }
                seen[name] = node.location
                stack.append(.mapping(start: start, anchor: a, pairs: pairs, pendingKey: node, seen: seen, size: total + size))
            }
        }
    }

    private func checkTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, at: SourceLocation) throws(Diagnostic) {
        guard let tag = string(tag) else { return }
        throw Diagnostic(at: at, "YAML tags such as '\(tag)' are not allowed (an expression that starts with '!' must be quoted)", code: "yaml-tag")
    }

    private func checkJSONScalar(_ text: String, style: ScalarStyle, at: SourceLocation) throws(Diagnostic) {
        switch style {
        case .doubleQuoted: return
        case .plain:
            if text == "true" || text == "false" || text == "null" { return }
            if StrictJSON.isNumber(text) { return }
            throw notJSON("the unquoted value '\(text)'", at: at)
        default:
            throw notJSON("a \(style == .singleQuoted ? "single-quoted" : "block") string", at: at)
        }
    }

    private func notJSON(_ what: String, at: SourceLocation) -> Diagnostic {
        Diagnostic(at: at, "not strict JSON: \(what) is YAML-only syntax in a .json file", code: "json-syntax")
    }

    private func syntaxError(_ parser: yaml_parser_t) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
        var mark = parser.problem_mark
        if parser.error == YAML_READER_ERROR {
            return Diagnostic(at: UTF8Check.location(of: parser.problem_offset, in: bytes, file: file),
                              "cannot read file: \(problem)", code: "encoding")
        }
        if mark.line == 0, mark.column == 0, mark.index == 0 { mark = parser.context_mark }
        let at = loc(mark)
        let index = Int(mark.index)
        var message = problem
        if let context = parser.context.map({ String(cString: $0) }) {
            message = "\(problem) (\(context) at \(Int(parser.context_mark.line) + 1):\(Int(parser.context_mark.column) + 1))"
        }
        if index < bytes.count, bytes[index] == 9 {
            message = "tab characters are not allowed here; indent YAML with spaces"
        } else if problem.contains("mapping values are not allowed") {
            message += "; a value containing ': ' must be quoted"
        } else if problem.contains("cannot start any token") {
            message += "; an expression that starts with '@', '`', '%', '!', '&', '*', '[', '{' or a quote must be quoted"
        } else if let opener = Self.valueOpener(onLineOf: index, in: bytes) {
            // `if: "exec" != offer.tier`: YAML reads the quoted part as the whole value and
            // trips over what follows it.
            message += "; a value that starts with \(opener) and goes on after it (an expression such as "
                + "'\"exec\" != offer.tier') must be quoted as a whole"
        }
        return Diagnostic(at: at, message, code: "yaml-syntax")
    }

    /// The character that opens the value of the `key: value` on the line holding byte `index`,
    /// when it is one YAML gives a meaning of its own (a quote, `[`, `{`, `&`).
    static func valueOpener(onLineOf index: Int, in bytes: [UInt8]) -> String? {
        guard index <= bytes.count else { return nil }
        var start = min(index, bytes.count)
        while start > 0, bytes[start - 1] != 10 { start -= 1 }
        var end = start
        while end < bytes.count, bytes[end] != 10 { end += 1 }
        let line = bytes[start..<end]
        // The first ": " of the line, then the first character of what follows it.
        guard let colon = line.indices.first(where: { line[$0] == 58 && $0 + 1 < end && line[$0 + 1] == 32 }) else { return nil }
        guard let first = line[(colon + 1)...].first(where: { $0 != 32 }) else { return nil }
        switch first {
        case 34: return "a double quote"
        case 39: return "a single quote"
        case 91: return "'['"
        case 123: return "'{'"
        case 38: return "'&'"
        default: return nil
        }
    }
}
