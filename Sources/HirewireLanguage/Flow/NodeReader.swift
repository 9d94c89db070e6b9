/// Reads ``Node`` trees into typed models, reporting every problem into one diagnostic list
/// instead of stopping at the first. Used by the flow, config, template, source and test readers.
final class NodeReader {
    private(set) var diagnostics = DiagnosticBag()

    init() {}

    func error(_ message: String, at location: SourceLocation, code: String) {
        diagnostics.error(message, at: location, code: code)
    }

    func warning(_ message: String, at location: SourceLocation, code: String) {
        diagnostics.warning(message, at: location, code: code)
    }

    func absorb(_ bag: DiagnosticBag) { diagnostics.append(contentsOf: bag.items) }

    func append(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// The entries of a mapping whose keys must be among `allowed`; unknown keys are reported at
    /// the key with a did-you-mean. Returns nil (after reporting) when `node` is not a mapping.
    func mapping(_ node: Node, _ what: String, allowed: [String]) -> [String: Node.Pair]? {
        guard let pairs = node.pairs else {
            error("\(what) must be a mapping, not \(node.kindDescription)", at: node.location, code: "invalid-value")
            return nil
        }
        var result: [String: Node.Pair] = [:]
        for pair in pairs {
            if allowed.contains(pair.name) {
                result[pair.name] = pair
            } else {
                error("unknown key '\(pair.name)' in \(what)\(Suggest.hint(for: pair.name, in: allowed))",
                      at: pair.key.location, code: "unknown-key")
            }
        }
        return result
    }

    /// Reports `key` missing from a mapping that starts at `location`.
    func missing(_ key: String, in what: String, at location: SourceLocation) {
        error("\(what) needs '\(key)'", at: location, code: "missing-key")
    }

    /// A non-empty text scalar.
    func string(_ node: Node, _ what: String) -> Located<String>? {
        guard let text = node.scalar, !node.isNull || node.style != .plain else {
            error("\(what) must be text, not \(node.kindDescription)", at: node.location, code: "invalid-value")
            return nil
        }
        if text.isEmpty {
            error("\(what) must not be empty", at: node.location, code: "invalid-value")
            return nil
        }
        return Located(text, at: node.location)
    }

    /// One name or a list of names (`on: offer.viewed` or `on: [a, b]`).
    func names(_ node: Node, _ what: String) -> [Located<String>] {
        if let items = node.items {
            if items.isEmpty { error("\(what) must name at least one item", at: node.location, code: "invalid-value") }
            return items.compactMap { string($0, what) }
        }
        return string(node, what).map { [$0] } ?? []
    }

    /// An expression written as a scalar. A collection here usually means an unquoted
    /// expression that YAML read as flow syntax, so the message says to quote it.
    func expression(_ node: Node, _ what: String) -> ExpressionSource? {
        switch node.kind {
        case .scalar(let text, let style):
            if node.isNull, style == .plain {
                error("\(what) needs an expression", at: node.location, code: "invalid-value")
                return nil
            }
            let offset = (style == .singleQuoted || style == .doubleQuoted) ? 1 : 0
            var location = node.location.advanced(by: offset)
            if style == .literal || style == .folded {
                location = SourceLocation(file: location.file, line: location.line + 1, column: location.column)
            }
            return ExpressionSource(text, at: location)
        case .sequence:
            error("\(what) must be an expression, not a list; an expression that starts with '[' must be quoted",
                  at: node.location, code: "invalid-value")
        case .mapping:
            error("\(what) must be an expression, not a mapping; quote an expression that starts with '{' or contains ': '",
                  at: node.location, code: "invalid-value")
        }
        return nil
    }

    /// A YAML 1.2 core boolean.
    func bool(_ node: Node, _ what: String) -> Bool? {
        if node.style == .plain, case .bool(let b)? = Node.coreScalar(node.scalar ?? "") { return b }
        error("\(what) must be true or false", at: node.location, code: "invalid-value")
        return nil
    }

    /// A whole number within `range`.
    func integer(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Located<Int>? {
        if node.style == .plain, let n = Node.decimalNumber(node.scalar ?? ""), n == n.rounded(), range.contains(Int(n)) {
            return Located(Int(n), at: node.location)
        }
        error("\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound)", at: node.location, code: "invalid-value")
        return nil
    }

    /// A duration such as `36h` or `1d12h`, in seconds.
    func duration(_ node: Node, _ what: String) -> Located<Double>? {
        guard let text = node.scalar, !node.isNull else {
            error("\(what) must be a duration such as 48h, not \(node.kindDescription)", at: node.location, code: "invalid-duration")
            return nil
        }
        let offset = (node.style == .singleQuoted || node.style == .doubleQuoted) ? 1 : 0
        switch DurationSyntax.parse(text) {
        case .success(let seconds):
            return Located(seconds, at: node.location)
        case .failure(let problem):
            error("\(what): \(problem.message)", at: node.location.advanced(by: offset + problem.offset), code: "invalid-duration")
            return nil
        }
    }

    /// One of a fixed set of words.
    func choice(_ node: Node, _ what: String, _ options: [String]) -> Located<String>? {
        guard let text = string(node, what) else { return nil }
        guard options.contains(text.value) else {
            error("\(what) must be one of \(options.joined(separator: ", ")); got '\(text.value)'\(Suggest.hint(for: text.value, in: options))",
                  at: node.location, code: "invalid-value")
            return nil
        }
        return text
    }

    /// A list, or a single item read as a list of one (for `after`, `exit`, `do`).
    func listOrOne(_ node: Node) -> [Node] {
        node.items ?? [node]
    }
}
