/// Parses expression text into an ``Expr`` tree.
///
/// Precedence, loosest first: `?:` (right-associative), `||`, `&&`, `==` `!=`,
/// `<` `<=` `>` `>=` `in`, `??` (right-associative), `+` `-`, `*` `/` `%`, unary `!` `-`,
/// then member access, indexing and calls. `??` binds tighter than comparisons, so
/// `assessment.score ?? 0 >= 50` means `(assessment.score ?? 0) >= 50`.
public struct ExprParser {
    private var tokens: [(ExprToken, Int)]
    private var p = 0
    private var depth = 0

    /// Parses a whole expression.
    public static func parse(_ text: String) throws(ExprError) -> Expr {
        var lexer = ExprLexer(text)
        var parser = ExprParser(tokens: try lexer.tokenize())
        if case .end = parser.peek {
            throw ExprError("empty expression", at: 0)
        }
        let expr = try parser.ternary()
        if case .end = parser.peek { return expr }
        throw ExprError("unexpected \(parser.describe(parser.peek)) after the expression", at: parser.offset)
    }

    private init(tokens: [(ExprToken, Int)]) {
        self.tokens = tokens
    }

    private var peek: ExprToken { tokens[p].0 }
    private var offset: Int { tokens[p].1 }

    private func describe(_ token: ExprToken) -> String {
        switch token {
        case .number(let n): return "number \(Value.formatNumber(n))"
        case .string: return "string"
        case .duration(let d): return "duration \(DurationFormat.format(d))"
        case .identifier(let s): return "'\(s)'"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }

    private mutating func advance() { if p < tokens.count - 1 { p += 1 } }

    private mutating func accept(_ symbol: String) -> Bool {
        if case .symbol(let s) = peek, s == symbol {
            advance()
            return true
        }
        return false
    }

    private mutating func expect(_ symbol: String, closing opener: String? = nil, openedAt: Int = 0) throws(ExprError) {
        if accept(symbol) { return }
        if let opener {
            throw ExprError("expected '\(symbol)' to close '\(opener)' opened at column \(openedAt + 1), found \(describe(peek))", at: offset)
        }
        throw ExprError("expected '\(symbol)', found \(describe(peek))", at: offset)
    }

    private mutating func ternary() throws(ExprError) -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > 100 { throw ExprError("expression nested too deeply", at: offset) }
        let condition = try binary(level: 0)
        guard accept("?") else { return condition }
        let yes = try ternary()
        try expect(":")
        let no = try ternary()
        return Expr(.conditional(condition, yes, no), at: condition.offset)
    }

    /// Binary operator levels, loosest first (``ExprPrinter`` reads its precedences here too).
    static let levels: [[BinaryOp]] = [
        [.or], [.and], [.eq, .ne], [.lt, .le, .gt, .ge, .in], [.coalesce], [.add, .sub], [.mul, .div, .mod],
    ]

    private func binaryOp(at level: Int) -> BinaryOp? {
        let candidates = Self.levels[level]
        switch peek {
        case .symbol(let s): return candidates.first { $0.rawValue == s }
        case .identifier("in"): return candidates.contains(.in) ? .in : nil
        default: return nil
        }
    }

    private mutating func binary(level: Int) throws(ExprError) -> Expr {
        if level == Self.levels.count { return try unary() }
        var left = try binary(level: level + 1)
        while let op = binaryOp(at: level) {
            advance()
            if op == .coalesce {
                // Right-associative: a ?? b ?? c == a ?? (b ?? c).
                let right = try binary(level: level)
                return Expr(.binary(op, left, right), at: left.offset)
            }
            let right = try binary(level: level + 1)
            if level == 2 || level == 3, binaryOp(at: level) != nil {
                throw ExprError("comparisons do not chain; use && between them", at: offset)
            }
            left = Expr(.binary(op, left, right), at: left.offset)
        }
        return left
    }

    private mutating func unary() throws(ExprError) -> Expr {
        let start = offset
        if accept("!") { return Expr(.unary(.not, try unary()), at: start) }
        if accept("-") {
            let operand = try unary()
            if case .literal(.number(let n)) = operand.kind { return Expr(.literal(.number(-n)), at: start) }
            if case .literal(.duration(let d)) = operand.kind { return Expr(.literal(.duration(-d)), at: start) }
            return Expr(.unary(.negate, operand), at: start)
        }
        return try postfix()
    }

    private mutating func postfix() throws(ExprError) -> Expr {
        var expr = try primary()
        while true {
            if case .symbol(".") = peek {
                advance()
                guard case .identifier(let name) = peek else {
                    throw ExprError("expected a field name after '.', found \(describe(peek))", at: offset)
                }
                advance()
                if case .path(let root, let steps) = expr.kind {
                    expr = Expr(.path(root: root, steps: steps + [.key(name)]), at: expr.offset)
                } else {
                    expr = Expr(.member(expr, name), at: expr.offset)
                }
            } else if case .symbol("[") = peek {
                let open = offset
                advance()
                let index = try ternary()
                try expect("]", closing: "[", openedAt: open)
                if case .path(let root, let steps) = expr.kind {
                    if case .literal(.number(let n)) = index.kind, n >= 0, n == n.rounded() {
                        expr = Expr(.path(root: root, steps: steps + [.index(Int(n))]), at: expr.offset)
                        continue
                    }
                    if case .literal(.string(let key)) = index.kind {
                        expr = Expr(.path(root: root, steps: steps + [.key(key)]), at: expr.offset)
                        continue
                    }
                }
                expr = Expr(.index(expr, index), at: expr.offset)
            } else {
                return expr
            }
        }
    }

    private mutating func primary() throws(ExprError) -> Expr {
        let start = offset
        switch peek {
        case .number(let n):
            advance()
            return Expr(.literal(.number(n)), at: start)
        case .duration(let d):
            advance()
            return Expr(.literal(.duration(d)), at: start)
        case .string(let s):
            advance()
            if let date = Timestamp.parse(s) { return Expr(.literal(.timestamp(date)), at: start) }
            return Expr(.literal(.string(s)), at: start)
        case .identifier(let name):
            advance()
            switch name {
            case "null": return Expr(.literal(.null), at: start)
            case "true": return Expr(.literal(.bool(true)), at: start)
            case "false": return Expr(.literal(.bool(false)), at: start)
            case "in": throw ExprError("expected a value before 'in'", at: start)
            default: break
            }
            if case .symbol("(") = peek {
                let open = offset
                advance()
                var args: [Expr] = []
                if !accept(")") {
                    repeat { args.append(try ternary()) } while accept(",")
                    try expect(")", closing: "(", openedAt: open)
                }
                return Expr(.call(name, args), at: start)
            }
            return Expr(.path(root: name, steps: []), at: start)
        case .symbol("("):
            advance()
            let inner = try ternary()
            try expect(")", closing: "(", openedAt: start)
            return inner
        case .symbol("["):
            advance()
            var items: [Expr] = []
            if !accept("]") {
                repeat { items.append(try ternary()) } while accept(",")
                try expect("]", closing: "[", openedAt: start)
            }
            return Expr(.list(items), at: start)
        default:
            throw ExprError("expected a value, found \(describe(peek))", at: start)
        }
    }
}
