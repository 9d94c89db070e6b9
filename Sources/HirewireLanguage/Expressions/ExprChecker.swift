/// Computes the static type of an expression and reports type errors with their positions.
public struct ExprChecker {
    public let scope: any ExprScope

    public init(scope: any ExprScope) {
        self.scope = scope
    }

    /// The type of `expr`, or the first type error found in it.
    public func check(_ expr: Expr) throws(ExprError) -> ExprType {
        switch expr.kind {
        case .literal(let value):
            switch value {
            case .null: return .null
            case .bool: return .bool
            case .number: return .number
            case .string: return .string
            case .timestamp: return .timestamp
            case .duration: return .duration
            case .array: return ExprType(.list)
            case .object: return ExprType(.object)
            }
        case .path(let root, let steps):
            let members = steps.map { step -> String in
                switch step {
                case .key(let k): return k
                case .index(let i): return String(i)
                }
            }
            switch scope.resolve(root: root, members: members) {
            case .type(let t): return t
            case .unknownRoot(let suggestion):
                let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
                throw ExprError("unknown name '\(root)'\(hint)", at: expr.offset, code: "unknown-name", name: root)
            case .invalid(let message, let code):
                throw ExprError(message, at: expr.offset, code: code)
            }
        case .list(let items):
            for item in items { _ = try check(item) }
            return ExprType(.list)
        case .unary(let op, let operand):
            let t = try check(operand)
            switch op {
            case .not:
                try need(t, .bool, operand, "'!' needs a boolean")
                return ExprType(.bool, nullable: t.nullable)
            case .negate:
                guard t.fits(.number) || t.kind == .duration else {
                    throw ExprError("'-' needs a number or duration, not \(t)", at: operand.offset, code: "expression-type")
                }
                return t
            }
        case .binary(let op, let a, let b):
            return try binary(op, a, b)
        case .conditional(let c, let a, let b):
            try need(try check(c), .bool, c, "the condition of '?:' must be boolean")
            return ExprType.join(try check(a), try check(b))
        case .call(let name, let args):
            return try ExprFunctions.check(name, args, at: expr.offset, checker: self)
        case .member(let base, _):
            let t = try check(base)
            guard t.kind == .object || t.kind == .any || t.kind == .null else {
                throw ExprError("\(t) has no fields", at: expr.offset, code: "expression-type")
            }
            return .any
        case .index(let base, let index):
            let t = try check(base)
            let i = try check(index)
            guard t.kind == .list || t.kind == .object || t.kind == .any || t.kind == .null else {
                throw ExprError("\(t) cannot be indexed", at: expr.offset, code: "expression-type")
            }
            guard i.kind == .number || i.kind == .string || i.kind == .any || i.kind == .null else {
                throw ExprError("an index must be a number or a string, not \(i)", at: index.offset, code: "expression-type")
            }
            return .any
        }
    }

    func need(_ t: ExprType, _ kind: ExprType.Kind, _ at: Expr, _ message: String) throws(ExprError) {
        guard t.fits(kind) else {
            throw ExprError("\(message), not \(t)", at: at.offset, code: "expression-type")
        }
    }

    private func binary(_ op: BinaryOp, _ a: Expr, _ b: Expr) throws(ExprError) -> ExprType {
        let ta = try check(a), tb = try check(b)
        let nullable = ta.nullable || tb.nullable
        switch op {
        case .and, .or:
            try need(ta, .bool, a, "'\(op.rawValue)' needs booleans")
            try need(tb, .bool, b, "'\(op.rawValue)' needs booleans")
            return .bool
        case .eq, .ne:
            if !comparable(ta, tb) {
                throw ExprError("cannot compare \(ta) with \(tb); '\(op.rawValue)' between them is always \(op == .ne)",
                                at: b.offset, code: "expression-type")
            }
            return .bool
        case .lt, .le, .gt, .ge:
            let ordered: [ExprType.Kind] = [.number, .string, .timestamp, .duration]
            guard ta.kind == .any || ta.kind == .null || ordered.contains(ta.kind) else {
                throw ExprError("'\(op.rawValue)' compares numbers, strings, timestamps or durations, not \(ta)", at: a.offset, code: "expression-type")
            }
            guard tb.kind == .any || tb.kind == .null || ordered.contains(tb.kind) else {
                throw ExprError("'\(op.rawValue)' compares numbers, strings, timestamps or durations, not \(tb)", at: b.offset, code: "expression-type")
            }
            if !comparable(ta, tb) {
                throw ExprError("cannot compare \(ta) with \(tb)", at: b.offset, code: "expression-type")
            }
            return .bool
        case .in:
            guard tb.kind == .list || tb.kind == .string || tb.kind == .object || tb.kind == .any || tb.kind == .null else {
                throw ExprError("'in' needs a list or a string on its right, not \(tb)", at: b.offset, code: "expression-type")
            }
            return .bool
        case .coalesce:
            var joined = ExprType.join(ta.nonNull, tb)
            joined.nullable = tb.nullable
            return joined
        case .add, .sub, .mul, .div, .mod:
            return ExprType(try arithmetic(op, ta, tb, a, b).kind, nullable: nullable || op == .div || op == .mod)
        }
    }

    private func comparable(_ a: ExprType, _ b: ExprType) -> Bool {
        if a.kind == b.kind || a.kind == .any || b.kind == .any || a.kind == .null || b.kind == .null { return true }
        let timeLike: Set<ExprType.Kind> = [.timestamp, .string]
        return timeLike.contains(a.kind) && timeLike.contains(b.kind)
    }

    private func arithmetic(_ op: BinaryOp, _ ta: ExprType, _ tb: ExprType, _ a: Expr, _ b: Expr) throws(ExprError) -> ExprType {
        let ka = ta.kind, kb = tb.kind
        if ka == .any || kb == .any || ka == .null || kb == .null { return .any }
        switch (op, ka, kb) {
        case (_, .number, .number): return .number
        case (.add, .string, .string): return .string
        case (.add, .timestamp, .duration), (.sub, .timestamp, .duration), (.add, .duration, .timestamp): return .timestamp
        case (.sub, .timestamp, .timestamp): return .duration
        case (.add, .duration, .duration), (.sub, .duration, .duration): return .duration
        case (.mul, .duration, .number), (.mul, .number, .duration), (.div, .duration, .number): return .duration
        default:
            throw ExprError("'\(op.rawValue)' cannot combine \(ta.kind.rawValue) and \(tb.kind.rawValue)", at: b.offset, code: "expression-type")
        }
    }
}
