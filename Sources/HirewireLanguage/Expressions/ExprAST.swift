/// A parsed expression node with the 0-based character offset where it starts.
public struct Expr: Sendable, Hashable {
    public var kind: ExprKind
    /// 0-based offset (in characters) of the node's first character in the expression text.
    public var offset: Int

    public init(_ kind: ExprKind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }
}

/// Binary operators, loosest first in ``ExprParser``'s precedence table.
public enum BinaryOp: String, Sendable, Hashable {
    case or = "||", and = "&&"
    case eq = "==", ne = "!="
    case lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in"
    case coalesce = "??"
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
}

/// Unary operators.
public enum UnaryOp: String, Sendable, Hashable {
    case not = "!", negate = "-"
}

/// One step of a path after its root.
public enum PathStep: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// The shapes an expression takes.
public indirect enum ExprKind: Sendable, Hashable {
    case literal(Value)
    /// `root.a.b[0]`: a name with member and index steps known at parse time.
    case path(root: String, steps: [PathStep])
    case list([Expr])
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case conditional(Expr, Expr, Expr)
    case call(String, [Expr])
    /// Member access on a computed value: `first(list).id`.
    case member(Expr, String)
    /// Index on a computed value or with a computed index: `list[i]`.
    case index(Expr, Expr)
}

extension Expr {
    /// The path components when this expression is a plain path (`candidate.email`), else nil.
    public var pathComponents: [String]? {
        guard case .path(let root, let steps) = kind else { return nil }
        var out = [root]
        for step in steps {
            switch step {
            case .key(let k): out.append(k)
            case .index(let i): out.append(String(i))
            }
        }
        return out
    }

    /// Every plain path this expression reads, dotted (`candidate.email`), in order of appearance.
    public var readPaths: [String] {
        var out: [String] = []
        visit { node in
            if let parts = node.pathComponents { out.append(parts.joined(separator: ".")) }
        }
        return out
    }

    /// Paths that are certainly non-null whenever this expression is true: the arguments of
    /// `has()` calls and `x != null` tests joined by `&&`.
    public var guaranteedPaths: Set<String> {
        switch kind {
        case .binary(.and, let a, let b):
            return a.guaranteedPaths.union(b.guaranteedPaths)
        case .call("has", let args):
            return Set(args.compactMap { $0.pathComponents?.joined(separator: ".") })
        case .binary(.ne, let a, let b):
            if case .literal(.null) = b.kind, let p = a.pathComponents { return [p.joined(separator: ".")] }
            if case .literal(.null) = a.kind, let p = b.pathComponents { return [p.joined(separator: ".")] }
            return []
        default:
            return []
        }
    }

    /// Calls `body` on this node and every node below it.
    public func visit(_ body: (Expr) -> Void) {
        body(self)
        switch kind {
        case .literal, .path: break
        case .list(let items): items.forEach { $0.visit(body) }
        case .unary(_, let e): e.visit(body)
        case .binary(_, let a, let b): a.visit(body); b.visit(body)
        case .conditional(let c, let a, let b): c.visit(body); a.visit(body); b.visit(body)
        case .call(_, let args): args.forEach { $0.visit(body) }
        case .member(let e, _): e.visit(body)
        case .index(let e, let i): e.visit(body); i.visit(body)
        }
    }
}

/// A problem in an expression: where (0-based character offset), what, and a stable code.
public struct ExprError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var code: String
    /// The name an `unknown-name` error is about.
    public var name: String?

    public init(_ message: String, at offset: Int, code: String = "expression-syntax", name: String? = nil) {
        self.offset = offset
        self.message = message
        self.code = code
        self.name = name
    }

    public var description: String { "column \(offset + 1): \(message)" }
}
