/// A parsed Mustache template (the spec's interpolation, sections, inverted sections, comments,
/// partials and set delimiters; no lambdas). Parse once, render many times.
public struct MustacheTemplate: Sendable, Hashable {
    /// The template text as given.
    public let source: String
    let nodes: [MustacheNode]

    /// Parses `source`; errors carry the 1-based line and column within `source`.
    public init(_ source: String) throws(MustacheError) {
        self.source = source
        var parser = MustacheParser(source)
        nodes = try parser.parse()
    }

    /// Every interpolation in the template with the sections that enclose it.
    public var variables: [MustacheVariable] {
        var out: [MustacheVariable] = []
        func walk(_ nodes: [MustacheNode], _ sections: [String]) {
            for node in nodes {
                switch node {
                case .text, .partial: break
                case .variable(let name, _, let line, let column):
                    out.append(MustacheVariable(name: name.text, sections: sections, line: line, column: column))
                case .section(let name, let inverted, let children, _, _):
                    // An inverted section renders when its name is missing: it guards nothing.
                    walk(children, inverted ? sections : sections + [name.text])
                }
            }
        }
        walk(nodes, [])
        return out
    }

    /// Names of the sections (normal and inverted) with their positions.
    public var sections: [MustacheVariable] {
        var out: [MustacheVariable] = []
        func walk(_ nodes: [MustacheNode], _ enclosing: [String]) {
            for node in nodes {
                if case .section(let name, _, let children, let line, let column) = node {
                    out.append(MustacheVariable(name: name.text, sections: enclosing, line: line, column: column))
                    walk(children, enclosing + [name.text])
                }
            }
        }
        walk(nodes, [])
        return out
    }

    /// Names of the partials the template includes.
    public var partialNames: [String] {
        var out: [String] = []
        func walk(_ nodes: [MustacheNode]) {
            for node in nodes {
                if case .partial(let name, _, _, _) = node { out.append(name) }
                if case .section(_, _, let children, _, _) = node { walk(children) }
            }
        }
        walk(nodes)
        return out
    }

    /// Renders against `context`. `escapeHTML` escapes `{{x}}` (not `{{{x}}}`/`{{&x}}`);
    /// `strict` makes a missing or null interpolation (or a missing partial) an error instead of
    /// the empty string. `partials` maps partial names to their template text.
    /// `scope` resolves names of the bottom frame before `context` does.
    public func render(_ context: Value, scope: (any RootScope)? = nil, partials: [String: String] = [:], escapeHTML: Bool = true,
                       strict: Bool = false) throws(MustacheError) -> String {
        var renderer = MustacheRenderer(partials: partials, escapeHTML: escapeHTML, strict: strict, scope: scope)
        // Most action arguments are plain text or one tag (`{{candidate.email}}`): no buffer then.
        if nodes.isEmpty { return "" }
        if nodes.count == 1 {
            switch nodes[0] {
            case .text(let t):
                return t
            case .variable(let name, let escaped, let line, let column):
                guard let text = try renderer.interpolation(name, line: line, column: column, in: CollectionOfOne(context)) else { return "" }
                guard renderer.shouldEscape(text, escaped: escaped) else { return text }
                let out = ByteBuffer(capacity: text.utf8.count + 32)
                MustacheRenderer.appendEscaped(text, to: out)
                return out.string
            default:
                break
            }
        }
        // Bytes, not a String: appending text runs and values to a byte buffer is a copy each.
        let out = ByteBuffer(capacity: source.utf8.count + 128)
        // Room for a few nested sections before the stack has to grow.
        var stack: [Value] = []
        stack.reserveCapacity(4)
        stack.append(context)
        try renderer.render(nodes, stack: &stack, into: out, depth: 0)
        return out.string
    }
}

/// One interpolation found by static analysis.
public struct MustacheVariable: Sendable, Hashable {
    /// The dotted name as written (`candidate.first_name`, or `.`).
    public var name: String
    /// Names of the enclosing non-inverted sections, outermost first.
    public var sections: [String]
    public var line: Int
    public var column: Int
}

/// A template parse or render problem at a 1-based line and column of the template text.
public struct MustacheError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column): \(message)" }
}

/// Parsed template nodes.
indirect enum MustacheNode: Sendable, Hashable {
    case text(String)
    case variable(name: MustacheName, escaped: Bool, line: Int, column: Int)
    case section(name: MustacheName, inverted: Bool, children: [MustacheNode], line: Int, column: Int)
    case partial(name: String, indent: String, line: Int, column: Int)
}

/// A tag name, split into its dotted parts once at parse time.
struct MustacheName: Sendable, Hashable {
    let text: String
    /// The first part (nil for the implicit iterator `.`), looked up down the stack.
    let first: String?
    /// The parts after the first, looked up inside the value the first found.
    let rest: [String]

    init(_ text: String) {
        self.text = text
        let parts = text == "." ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        first = parts.first
        rest = Array(parts.dropFirst())
    }
}
