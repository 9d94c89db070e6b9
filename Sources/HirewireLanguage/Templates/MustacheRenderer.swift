/// Renders parsed Mustache nodes against a context stack.
struct MustacheRenderer {
    let partials: [String: String]
    let escapeHTML: Bool
    let strict: Bool
    /// Resolves names of the bottom frame before the frame itself does.
    let scope: (any RootScope)?
    private var parsedPartials: [String: MustacheTemplate] = [:]

    init(partials: [String: String], escapeHTML: Bool, strict: Bool, scope: (any RootScope)? = nil) {
        self.partials = partials
        self.escapeHTML = escapeHTML
        self.strict = strict
        self.scope = scope
    }

    /// Resolves a (dotted) name against the stack: the first part is looked up from the top of
    /// the stack down; the rest descends into that value only. `.` is the top of the stack.
    func lookup<Stack: RandomAccessCollection<Value>>(_ name: MustacheName, in stack: Stack) -> Value where Stack.Index == Int {
        guard let first = name.first else { return stack.last ?? .null }
        // Strict: inside a section over an object, a plain name is that object's field only.
        // Looked up further down, `{{#hiring_manager}}{{name}}{{/hiring_manager}}` showed the
        // candidate's name whenever the manager had none.
        if strict, name.rest.isEmpty, stack.count > 1, case .object(let members)? = stack.last {
            return members[first] ?? .null
        }
        var found: Value?
        var i = stack.count - 1
        while i >= 0 {
            if i == 0, let scope, let v = scope.root(first) {
                found = v
                break
            }
            if case .object(let o) = stack[i], let v = o[first] {
                found = v
                break
            }
            i -= 1
        }
        guard var value = found else { return .null }
        for part in name.rest {
            guard case .object(let o) = value, let next = o[part] else { return .null }
            value = next
        }
        return value
    }

    static func isFalsey(_ value: Value) -> Bool {
        switch value {
        case .null, .bool(false): return true
        case .array(let a): return a.isEmpty
        case .string(let s): return s.isEmpty
        default: return false
        }
    }

    /// Whether `text` holds a character that HTML escaping changes.
    static func needsEscape(_ text: String) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") }
    }

    /// Appends `text` to `out`, HTML-escaped.
    static func appendEscaped(_ text: String, to out: ByteBuffer) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append("&amp;")
            case UInt8(ascii: "<"): out.append("&lt;")
            case UInt8(ascii: ">"): out.append("&gt;")
            case UInt8(ascii: "\""): out.append("&quot;")
            default: out.append(byte)
            }
        }
    }

    /// The text a `{{name}}` tag shows; nil (nothing) for a missing or null value, which strict
    /// rendering refuses instead. Strict rendering refuses an empty or blank string too: "Hi ,"
    /// is the blank token a message must never carry (an ATS sends `""` for a name left empty).
    func interpolation<Stack: RandomAccessCollection<Value>>(_ name: MustacheName, line: Int, column: Int,
                                                              in stack: Stack) throws(MustacheError) -> String? where Stack.Index == Int {
        let value = lookup(name, in: stack)
        guard value.isNull else {
            // An object or a list has no text of its own: shown, it was JSON, personal fields and all.
            if strict, value.objectValue != nil || value.arrayValue != nil {
                throw MustacheError(message: "'{{\(name.text)}}' is \(value.kindName == "list" ? "a list" : "an object"); name one of its fields, or loop over it with a section",
                                    line: line, column: column)
            }
            // Bytes, not Characters: this runs for every tag, and a value's first byte nearly
            // always settles it.
            if strict, case .string(let text) = value, text.utf8.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                throw MustacheError(message: "empty value for '{{\(name.text)}}'", line: line, column: column)
            }
            return value.displayString
        }
        if strict { throw MustacheError(message: "missing value for '{{\(name.text)}}'", line: line, column: column) }
        return nil
    }

    /// Whether a tag's text is HTML-escaped: an escaping tag, escaping on, and a character to escape.
    func shouldEscape(_ text: String, escaped: Bool) -> Bool { escaped && escapeHTML && Self.needsEscape(text) }

    /// Renders `nodes` onto `out`. A section pushes its value onto `stack` for its children and
    /// pops it after them (one array for the whole render, not one per section).
    mutating func render(_ nodes: [MustacheNode], stack: inout [Value], into out: ByteBuffer, depth: Int) throws(MustacheError) {
        for node in nodes {
            switch node {
            case .text(let t):
                out.append(t)
            case .variable(let name, let escaped, let line, let column):
                guard let text = try interpolation(name, line: line, column: column, in: stack) else { continue }
                if shouldEscape(text, escaped: escaped) {
                    Self.appendEscaped(text, to: out)
                } else {
                    out.append(text)
                }
            case .section(let name, let inverted, let children, _, _):
                let value = lookup(name, in: stack)
                if inverted {
                    if Self.isFalsey(value) { try render(children, stack: &stack, into: out, depth: depth) }
                    continue
                }
                if Self.isFalsey(value) { continue }
                if case .array(let items) = value {
                    for item in items { try renderPushed(item, children, stack: &stack, into: out, depth: depth) }
                } else {
                    try renderPushed(value, children, stack: &stack, into: out, depth: depth)
                }
            case .partial(let name, let indent, let line, let column):
                guard depth < 64 else {
                    throw MustacheError(message: "partials nest more than 64 deep", line: line, column: column)
                }
                guard let source = partials[name] else {
                    if strict { throw MustacheError(message: "unknown partial '\(name)'", line: line, column: column) }
                    continue
                }
                let key = indent + "\u{0}" + name
                let template: MustacheTemplate
                if let cached = parsedPartials[key] {
                    template = cached
                } else {
                    template = try MustacheTemplate(Self.indent(source, by: indent))
                    parsedPartials[key] = template
                }
                try render(template.nodes, stack: &stack, into: out, depth: depth + 1)
            }
        }
    }

    /// Renders `children` with `top` pushed onto the stack, and pops it again (also on error).
    private mutating func renderPushed(_ top: Value, _ children: [MustacheNode], stack: inout [Value], into out: ByteBuffer,
                                       depth: Int) throws(MustacheError) {
        stack.append(top)
        defer { stack.removeLast() }
        try render(children, stack: &stack, into: out, depth: depth)
    }

    /// Prefixes every line of `source` with `indent` (standalone partials).
    static func indent(_ source: String, by indent: String) -> String {
        guard !indent.isEmpty else { return source }
        var out = indent
        let scalars = Array(source.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            out.unicodeScalars.append(c)
            if c == "\n", i + 1 < scalars.count { out += indent }
        }
        return out
    }
}
