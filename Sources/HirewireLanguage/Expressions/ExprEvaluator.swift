import Foundation

/// Root names a host resolves only when an expression or template reads them (`journey`,
/// `state`, `vars`, `let` names…), so that a step need not build them into a dictionary first.
public protocol RootScope: AnyObject, Sendable {
    /// The value of root `name`, or nil when this scope does not define it (``ExprContext/roots``
    /// is asked then). A scope's names shadow the roots of the same name.
    func root(_ name: String) -> Value?
}

/// What an expression is evaluated against.
public struct ExprContext: Sendable {
    /// Root names (`candidate`, `event`, `vars`, let names…) and their values.
    public var roots: [String: Value]
    /// Roots resolved on demand, consulted before `roots`.
    public var scope: (any RootScope)?
    /// The step's clock; `now()` returns it.
    public var now: Date
    /// Request headers with lower-cased names (source files only).
    public var headers: [String: String]
    /// Hex SHA-256 of the raw body (source files only), computed by the host.
    public var bodySHA256: String?

    public init(roots: [String: Value], now: Date = Date(timeIntervalSince1970: 0), headers: [String: String] = [:], bodySHA256: String? = nil,
                scope: (any RootScope)? = nil) {
        self.roots = roots
        self.scope = scope
        self.now = now
        self.headers = headers
        self.bodySHA256 = bodySHA256
    }

    /// The value of root `name`: the scope's, else the roots', else null.
    public func root(_ name: String) -> Value {
        if let scope, let value = scope.root(name) { return value }
        return roots[name] ?? .null
    }
}

/// Evaluates expression trees. A missing path is null; there is no truthiness: a guard that is
/// not `true` does not hold; functions given null return null; comparisons with null other
/// than `==`/`!=` are false; division by zero is null.
public enum ExprEvaluator {
    /// The value of `expr` in `context`.
    public static func evaluate(_ expr: Expr, _ context: ExprContext) -> Value {
        switch expr.kind {
        case .literal(let v):
            return v
        case .path(let root, let steps):
            var current = context.root(root)
            for step in steps {
                switch step {
                case .key(let k):
                    guard case .object(let o) = current, let next = o[k] else { return .null }
                    current = next
                case .index(let i):
                    current = current[i]
                }
            }
            return current
        case .list(let items):
            return .array(items.map { evaluate($0, context) })
        case .unary(.not, let e):
            if case .bool(let b) = evaluate(e, context) { return .bool(!b) }
            return .null
        case .unary(.negate, let e):
            switch evaluate(e, context) {
            case .number(let n): return .number(-n)
            case .duration(let d): return .duration(-d)
            default: return .null
            }
        case .binary(let op, let a, let b):
            return binary(op, a, b, context)
        case .conditional(let c, let a, let b):
            if case .bool(true) = evaluate(c, context) { return evaluate(a, context) }
            return evaluate(b, context)
        case .call(let name, let args):
            return ExprRuntime.call(name, args, context)
        case .member(let base, let name):
            return evaluate(base, context)[name]
        case .index(let base, let index):
            let container = evaluate(base, context)
            switch evaluate(index, context) {
            case .number(let n) where n == n.rounded(): return container[Int(n)]
            case .string(let k): return container[k]
            default: return .null
            }
        }
    }

    /// True only when `expr` evaluates to `true`.
    @inlinable
    public static func holds(_ expr: Expr, _ context: ExprContext) -> Bool {
        if case .bool(true) = evaluate(expr, context) { return true }
        return false
    }

    private static func binary(_ op: BinaryOp, _ a: Expr, _ b: Expr, _ context: ExprContext) -> Value {
        switch op {
        case .and:
            guard case .bool(true) = evaluate(a, context) else { return .bool(false) }
            return .bool(holds(b, context))
        case .or:
            if case .bool(true) = evaluate(a, context) { return .bool(true) }
            return .bool(holds(b, context))
        case .coalesce:
            let left = evaluate(a, context)
            return left.isNull ? evaluate(b, context) : left
        default:
            break
        }
        let x = evaluate(a, context), y = evaluate(b, context)
        switch op {
        case .eq: return .bool(ExprRuntime.equal(x, y))
        case .ne: return .bool(!ExprRuntime.equal(x, y))
        case .lt: return .bool(ExprRuntime.compare(x, y).map { $0 < 0 } ?? false)
        case .le: return .bool(ExprRuntime.compare(x, y).map { $0 <= 0 } ?? false)
        case .gt: return .bool(ExprRuntime.compare(x, y).map { $0 > 0 } ?? false)
        case .ge: return .bool(ExprRuntime.compare(x, y).map { $0 >= 0 } ?? false)
        case .in: return .bool(ExprRuntime.contains(y, x) ?? false)
        default: return ExprRuntime.arithmetic(op, x, y)
        }
    }
}
