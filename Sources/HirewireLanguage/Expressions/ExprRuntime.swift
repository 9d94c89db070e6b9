import Foundation

/// Run-time semantics shared by the evaluator: equality, ordering, arithmetic and functions.
enum ExprRuntime {
    static func equal(_ x: Value, _ y: Value) -> Bool {
        switch (x, y) {
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.null, .null): return true
        case (.timestamp, _), (_, .timestamp):
            if let a = x.asTimestamp, let b = y.asTimestamp { return a == b }
            return false
        default: return x == y
        }
    }

    /// -1, 0, 1, or nil when the two cannot be ordered (null, different kinds).
    static func compare(_ x: Value, _ y: Value) -> Int? {
        switch (x, y) {
        case (.number(let a), .number(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.duration(let a), .duration(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)):
            if let p = Timestamp.parse(a), let q = Timestamp.parse(b) { return p < q ? -1 : (p > q ? 1 : 0) }
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.timestamp, _), (_, .timestamp):
            guard let a = x.asTimestamp, let b = y.asTimestamp else { return nil }
            return a < b ? -1 : (a > b ? 1 : 0)
        default: return nil
        }
    }

    /// Whether `container` holds `item` (list element, substring, object key); nil for null.
    static func contains(_ container: Value, _ item: Value) -> Bool? {
        switch container {
        case .array(let items): return items.contains { equal($0, item) }
        case .string(let s):
            guard case .string(let sub) = item else { return nil }
            return s.contains(sub)
        case .object(let o):
            guard case .string(let key) = item else { return nil }
            return o[key] != nil
        default: return nil
        }
    }

    static func arithmetic(_ op: BinaryOp, _ x: Value, _ y: Value) -> Value {
        switch (op, x, y) {
        case (.add, .number(let a), .number(let b)): return .number(a + b)
        case (.sub, .number(let a), .number(let b)): return .number(a - b)
        case (.mul, .number(let a), .number(let b)): return .number(a * b)
        case (.div, .number(let a), .number(let b)): return b == 0 ? .null : .number(a / b)
        case (.mod, .number(let a), .number(let b)): return b == 0 ? .null : .number(a.truncatingRemainder(dividingBy: b))
        case (.add, .duration(let a), .duration(let b)): return .duration(a + b)
        case (.sub, .duration(let a), .duration(let b)): return .duration(a - b)
        case (.mul, .duration(let a), .number(let b)), (.mul, .number(let b), .duration(let a)): return .duration(a * b)
        case (.div, .duration(let a), .number(let b)): return b == 0 ? .null : .duration(a / b)
        case (.add, .duration(let d), _):
            return y.asTimestamp.map { .timestamp($0.addingTimeInterval(d)) } ?? .null
        case (.add, _, .duration(let d)):
            if case .string(let a) = x, Timestamp.parse(a) == nil { return .null }
            return x.asTimestamp.map { .timestamp($0.addingTimeInterval(d)) } ?? .null
        case (.sub, _, .duration(let d)):
            return x.asTimestamp.map { .timestamp($0.addingTimeInterval(-d)) } ?? .null
        case (.add, .string(let a), .string(let b)): return .string(a + b)
        case (.sub, _, _):
            if let a = x.asTimestamp, let b = y.asTimestamp { return .duration(a.timeIntervalSince(b)) }
            return .null
        default: return .null
        }
    }

    static func call(_ name: String, _ args: [Expr], _ context: ExprContext) -> Value {
        if name == "has" {
            return .bool(!(args.first.map { ExprEvaluator.evaluate($0, context) } ?? .null).isNull)
        }
        if name == "now" { return .timestamp(context.now) }
        let values = args.map { ExprEvaluator.evaluate($0, context) }
        if name == "coalesce" { return values.first { !$0.isNull } ?? .null }
        if name == "sha256" { return context.bodySHA256.map(Value.string) ?? .null }
        if name == "string" {
            guard let v = values.first, !v.isNull else { return .null }
            return .string(v.displayString)
        }
        if values.contains(where: \.isNull) { return .null }
        switch (name, values.count) {
        case ("lower", 1): return values[0].stringValue.map { .string($0.lowercased()) } ?? .null
        case ("upper", 1): return values[0].stringValue.map { .string($0.uppercased()) } ?? .null
        case ("trim", 1): return values[0].stringValue.map { .string($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? .null
        case ("contains", 2): return contains(values[0], values[1]).map(Value.bool) ?? .null
        case ("starts_with", 2):
            guard let s = values[0].stringValue, let p = values[1].stringValue else { return .null }
            return .bool(s.hasPrefix(p))
        case ("ends_with", 2):
            guard let s = values[0].stringValue, let p = values[1].stringValue else { return .null }
            return .bool(s.hasSuffix(p))
        case ("len", 1):
            switch values[0] {
            case .string(let s): return .number(Double(s.count))
            case .array(let a): return .number(Double(a.count))
            case .object(let o): return .number(Double(o.count))
            default: return .null
            }
        case ("matches", 2):
            guard let s = values[0].stringValue, let pattern = values[1].stringValue,
                  let regex = RegexCache.shared.regex(pattern) else { return .null }
            return .bool(regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
        case ("first", 1):
            return values[0].arrayValue?.first ?? .null
        case ("days_between", 2):
            guard let a = values[0].asTimestamp, let b = values[1].asTimestamp else { return .null }
            return .number((b.timeIntervalSince(a) / 86400).rounded(.towardZero))
        case ("number", 1):
            switch values[0] {
            case .number: return values[0]
            case .string(let s): return Node.decimalNumber(s.trimmingCharacters(in: .whitespaces)).map(Value.number) ?? .null
            case .bool(let b): return .number(b ? 1 : 0)
            default: return .null
            }
        case ("header", 1):
            guard let n = values[0].stringValue else { return .null }
            return context.headers[n.lowercased()].map(Value.string) ?? .null
        default:
            return .null
        }
    }
}

/// Compiled regular expressions by pattern, shared across evaluations.
final class RegexCache: @unchecked Sendable {
    // @unchecked: the dictionary is only touched under `lock`; NSRegularExpression is immutable
    // and documented as safe to use from several threads.
    static let shared = RegexCache()
    private let lock = NSLock()
    private var cache: [String: NSRegularExpression] = [:]

    func regex(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let r = cache[pattern] { return r }
        guard let r = try? NSRegularExpression(pattern: pattern) else { return nil }
        if cache.count > 1000 { cache.removeAll() }
        cache[pattern] = r
        return r
    }
}
