import Foundation

/// A JSON-like runtime value: what expressions evaluate to, what events carry and what
/// templates render. Timestamps and durations are first-class so that `offer.expires_at - 24h`
/// type-checks and evaluates without string juggling.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// An instant in time (UTC). RFC 3339 strings in payloads become timestamps when an
    /// expression needs one (see ``Value/asTimestamp``).
    case timestamp(Date)
    /// Elapsed time in seconds (`48h`, `1d12h`).
    case duration(Double)
    case array([Value])
    case object([String: Value])
}

extension Value {
    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The member `key` of an object, or `.null` for anything else (a missing path is null).
    @inlinable
    public subscript(key: String) -> Value {
        if case .object(let members) = self { return members[key] ?? .null }
        return .null
    }

    /// The element at `index` of an array, or `.null` when out of range or not an array.
    public subscript(index: Int) -> Value {
        if case .array(let items) = self, index >= 0, index < items.count { return items[index] }
        return .null
    }

    /// Follows a dotted path of object keys; any missing step yields `.null`. Inlinable, so that
    /// a caller's own path type (an array slice) is specialized rather than walked generically.
    @inlinable
    public func value<Path: Sequence<String>>(at path: Path) -> Value {
        var current = self
        for key in path {
            current = current[key]
            if case .null = current { return .null }
        }
        return current
    }

    /// The string payload, if this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The number payload, if this is a number.
    public var numberValue: Double? { if case .number(let n) = self { return n } else { return nil } }
    /// The boolean payload, if this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The members, if this is an object.
    public var objectValue: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }
    /// The elements, if this is an array.
    public var arrayValue: [Value]? { if case .array(let a) = self { return a } else { return nil } }

    /// This value as an instant: a timestamp, or a string in RFC 3339 form.
    public var asTimestamp: Date? {
        switch self {
        case .timestamp(let d): return d
        case .string(let s): return Timestamp.parse(s)
        default: return nil
        }
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .timestamp: return "timestamp"
        case .duration: return "duration"
        case .array: return "list"
        case .object: return "object"
        }
    }

    /// Deep-merges `other` into this object value, field by field: objects merge recursively,
    /// any other present value (null included) replaces. Non-objects are replaced whole.
    public func merging(_ other: Value) -> Value {
        var merged = self
        merged.merge(other)
        return merged
    }

    /// Whether merging `other` into this value (``merge(_:)``) would change nothing: every member
    /// `other` has is here already with an equal value (objects compared member by member).
    public func holds(_ other: Value) -> Bool {
        guard case .object(let mine) = self, case .object(let theirs) = other else { return self == other }
        for (key, value) in theirs {
            guard let existing = mine[key] else { return false }
            if case .object = value, case .object = existing {
                if !existing.holds(value) { return false }
            } else if existing != value {
                return false
            }
        }
        return true
    }

    /// ``merging(_:)`` in place: an object this value holds alone is updated without a copy.
    public mutating func merge(_ other: Value) {
        guard case .object(var mine) = self, case .object(let theirs) = other else {
            self = other
            return
        }
        self = .null  // `mine` is now the only reference, so the updates below happen in place
        for (key, value) in theirs {
            if case .object = value, case .object? = mine[key] {
                mine[key, default: .null].merge(value)
            } else {
                mine[key] = value
            }
        }
        self = .object(mine)
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension Value {
    /// The text of an id: a non-empty string as it is, a number as it is written (`123`, as
    /// journey keys show it); nil for anything else. Vendors send ids as either.
    public var idText: String? {
        switch self {
        case .string(let s): return s.isEmpty ? nil : s
        case .number: return displayString
        default: return nil
        }
    }
}
