/// A parsed and type-checked expression, ready to evaluate.
public struct CompiledExpression: Sendable {
    /// The text as written and where.
    public var source: ExpressionSource
    public let expr: Expr
    /// The static type the checker found.
    public var type: ExprType
    /// Whether the expression reads the `event` root (the event a step applies); found once
    /// here, not by walking the expression at every release of a deferred action.
    public let readsEvent: Bool

    public init(source: ExpressionSource, expr: Expr, type: ExprType) {
        self.source = source
        self.expr = expr
        self.type = type
        readsEvent = expr.readPaths.contains { $0 == "event" || $0.hasPrefix("event.") }
    }

    /// Parses and checks `text` against `scope`; errors carry their column within `text`.
    public static func compile(_ text: String, scope: any ExprScope = OpenScope()) throws(ExprError) -> CompiledExpression {
        let expr = try ExprParser.parse(text)
        let type = try ExprChecker(scope: scope).check(expr)
        return CompiledExpression(source: ExpressionSource(text, at: SourceLocation(file: "", line: 1, column: 1)), expr: expr, type: type)
    }

    /// The expression's value.
    @inlinable
    public func evaluate(_ context: ExprContext) -> Value {
        ExprEvaluator.evaluate(expr, context)
    }

    /// True only when the expression evaluates to `true` (no truthiness).
    @inlinable
    public func holds(_ context: ExprContext) -> Bool {
        ExprEvaluator.holds(expr, context)
    }
}

/// What an expression is for, which decides the type it must have.
enum ExpressionPurpose {
    /// `if`, guards: boolean.
    case condition
    /// `start.if`: boolean, over the start event, `let` names and `env` (no journey yet).
    case startCondition
    /// `start.key`: evaluated against the start event alone.
    case key
    /// `at`: a timestamp.
    case timestamp
    /// `let`, `set`, `emit`, zones: any value.
    case value
}

/// Compiles a flow's expressions against its scope and reports problems at their columns.
struct ExpressionCompiler {
    let scope: FlowScope
    let reader: NodeReader

    func compile(_ source: ExpressionSource, as purpose: ExpressionPurpose) -> CompiledExpression? {
        let checkScope = purpose == .key ? scope.startEventScope : purpose == .startCondition ? scope.startConditionScope : scope
        let expr: Expr
        let type: ExprType
        do {
            expr = try ExprParser.parse(source.text)
            type = try ExprChecker(scope: checkScope).check(expr)
        } catch {
            report(error, in: source)
            return nil
        }
        switch purpose {
        case .condition, .startCondition:
            if type.kind != .bool, type.kind != .any {
                let hint = expr.pathComponents != nil ? " (there is no truthiness: write has(\(source.text)))" : ""
                reader.error("a condition must be boolean; '\(source.text)' is \(type)\(hint)", at: source.location, code: "non-boolean-condition")
                return nil
            }
        case .timestamp:
            if type.kind != .timestamp, type.kind != .any {
                reader.error("'at' needs a timestamp (such as offer.expires_at - 24h); '\(source.text)' is \(type)",
                             at: source.location, code: "not-a-timestamp")
                return nil
            }
        case .key:
            if type.nullable {
                reader.error("start.key '\(source.text)' can be null for the start event (\(scope.startTypes.joined(separator: ", "))); use a field that event requires, or add a fallback with ??",
                             at: source.location, code: "nullable-key")
            }
        case .value:
            break
        }
        return CompiledExpression(source: source, expr: expr, type: type)
    }

    /// A `require` entry: it must be a plain path.
    func path(_ source: ExpressionSource) -> MachinePath? {
        guard let compiled = compile(source, as: .value) else { return nil }
        guard let parts = compiled.expr.pathComponents else {
            reader.error("a require entry must be a path such as candidate.email, not an expression", at: source.location, code: "require-not-path")
            return nil
        }
        return MachinePath(components: parts, source: source)
    }

    /// Paths certainly present when the condition holds (`has(x)`, `x != null`).
    func guardedPaths(_ condition: CompiledExpression) -> Set<String> {
        condition.expr.guaranteedPaths
    }

    private func report(_ error: ExprError, in source: ExpressionSource) {
        reader.error(error.message, at: source.location.advanced(by: error.offset), code: error.code)
    }
}
