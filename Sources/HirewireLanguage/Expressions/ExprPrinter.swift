/// An expression written one way only: the same meaning prints the same text, whatever the
/// author's spacing, quotes and redundant parentheses (`a??b`, `('exec' != x)` print as
/// `a ?? b`, `"exec" != x`). `hirewire diff` compares guards and values by this text.
public enum ExprPrinter {
    public static func print(_ expr: Expr) -> String { text(expr, context: 0) }

    /// How tightly an operator binds (higher binds tighter): its level in ``ExprParser``'s
    /// table, above the conditional and below unary operators.
    static func precedence(_ op: BinaryOp) -> Int {
        (ExprParser.levels.firstIndex { $0.contains(op) } ?? 0) + 2
    }
    /// `!x`, `-x`: tighter than every binary operator.
    static let unary = ExprParser.levels.count + 2
    /// `a.b`, `a[i]` on a computed value: tightest of all.
    static let postfix = unary + 1

    /// `expr` as text inside a context that binds `context` tightly: parenthesized when it
    /// binds more loosely than that.
    static func text(_ expr: Expr, context: Int) -> String {
        switch expr.kind {
        case .literal(let value):
            switch value {
            case .string(let s): return Value.string(s).jsonString()
            case .duration(let d): return DurationFormat.format(d)
            case .timestamp(let t): return Value.string(Timestamp.format(t)).jsonString()
            default: return value.jsonString()
            }
        case .path(let root, let steps):
            return root + steps.map { step in
                switch step {
                case .key(let k): return "." + k
                case .index(let i): return "[\(i)]"
                }
            }.joined()
        case .list(let items):
            return "[" + items.map { text($0, context: 0) }.joined(separator: ", ") + "]"
        case .unary(let op, let operand):
            let body = op.rawValue + text(operand, context: unary)
            return context > unary ? "(" + body + ")" : body
        case .binary(let op, let left, let right):
            let p = precedence(op)
            // `??` groups to the right, comparisons do not chain, the rest group to the left: an
            // operand of the same precedence on the other side keeps its parentheses.
            let (l, r): (Int, Int)
            switch op {
            case .coalesce: (l, r) = (p + 1, p)
            case .eq, .ne, .lt, .le, .gt, .ge, .in: (l, r) = (p + 1, p + 1)
            default: (l, r) = (p, p + 1)
            }
            let body = "\(text(left, context: l)) \(op.rawValue) \(text(right, context: r))"
            return p < context ? "(" + body + ")" : body
        case .conditional(let condition, let then, let otherwise):
            let body = "\(text(condition, context: 2)) ? \(text(then, context: 0)) : \(text(otherwise, context: 0))"
            return context > 0 ? "(" + body + ")" : body
        case .call(let name, let arguments):
            return name + "(" + arguments.map { text($0, context: 0) }.joined(separator: ", ") + ")"
        case .member(let base, let name):
            return text(base, context: postfix) + "." + name
        case .index(let base, let index):
            return text(base, context: postfix) + "[" + text(index, context: 0) + "]"
        }
    }
}

extension CompiledExpression {
    /// The expression in ``ExprPrinter``'s one way of writing it.
    public var canonicalText: String { ExprPrinter.print(expr) }
}
