/// How a scalar was written; quoted scalars are always strings.
public enum ScalarStyle: Sendable, Hashable {
    case plain
    case singleQuoted
    case doubleQuoted
    case literal
    case folded
}

/// One node of a loaded YAML or JSON document, with the place it was written.
///
/// Scalars stay text: the compiler decides what a scalar means from the key it sits under
/// (YAML 1.2 core forms only), so `on`, `yes` and `20:00` are never booleans or numbers by accident.
public struct Node: Sendable, Hashable {
    /// The shape of a node.
    public enum Kind: Sendable, Hashable {
        case scalar(String, ScalarStyle)
        case sequence([Node])
        case mapping([Pair])
    }

    /// A mapping entry; keys are scalars (the loader rejects others).
    public struct Pair: Sendable, Hashable {
        public var key: Node
        public var value: Node
        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
        /// The key's text.
        public var name: String { key.scalar ?? "" }
    }

    public var kind: Kind
    /// Where the node starts (for a mapping entry's key: where the key starts).
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The scalar's text, or nil for collections.
    public var scalar: String? { if case .scalar(let s, _) = kind { return s } else { return nil } }
    /// The scalar's style, or nil for collections.
    public var style: ScalarStyle? { if case .scalar(_, let st) = kind { return st } else { return nil } }
    /// The entries, or nil when this is not a mapping.
    public var pairs: [Pair]? { if case .mapping(let p) = kind { return p } else { return nil } }
    /// The items, or nil when this is not a sequence.
    public var items: [Node]? { if case .sequence(let i) = kind { return i } else { return nil } }

    /// True for a plain `null`/`~`/empty scalar (YAML 1.2 core null).
    public var isNull: Bool {
        if case .scalar(let s, .plain) = kind { return s.isEmpty || s == "null" || s == "~" || s == "Null" || s == "NULL" }
        return false
    }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> Node? {
        pairs?.first { $0.key.scalar == key }?.value
    }

    /// The entry for `key` in a mapping (to point diagnostics at the key).
    public func pair(_ key: String) -> Pair? {
        pairs?.first { $0.key.scalar == key }
    }

    /// A short description of the node's kind for messages: "a string", "a list", "a mapping".
    public var kindDescription: String {
        switch kind {
        case .scalar: return isNull ? "null" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

extension Node {
    /// Converts to an untyped ``Value`` using YAML 1.2 core rules for plain scalars: `true`/`false`,
    /// `null`/`~`/empty, and decimal numbers become typed values; everything else is a string.
    /// Quoted and block scalars are always strings.
    public func toValue() -> Value {
        switch kind {
        case .scalar(let text, let style):
            guard style == .plain else { return .string(text) }
            return Node.coreScalar(text) ?? .string(text)
        case .sequence(let items):
            return .array(items.map { $0.toValue() })
        case .mapping(let pairs):
            var object: [String: Value] = [:]
            object.reserveCapacity(pairs.count)
            for pair in pairs { object[pair.name] = pair.value.toValue() }
            return .object(object)
        }
    }

    /// The YAML 1.2 core interpretation of a plain scalar, or nil when it is a plain string.
    public static func coreScalar(_ text: String) -> Value? {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        return decimalNumber(text).map(Value.number)
    }

    /// Parses a decimal number the way JSON and YAML 1.2 core write it (`-12`, `3.5`, `1e3`).
    public static func decimalNumber(_ text: String) -> Double? {
        var sawDigit = false
        var index = text.utf8.startIndex
        let bytes = text.utf8
        func peek() -> UInt8? { index < bytes.endIndex ? bytes[index] : nil }
        if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { index = bytes.index(after: index) }
        while let c = peek(), c >= 48, c <= 57 { sawDigit = true; index = bytes.index(after: index) }
        if peek() == UInt8(ascii: ".") {
            index = bytes.index(after: index)
            while let c = peek(), c >= 48, c <= 57 { sawDigit = true; index = bytes.index(after: index) }
        }
        guard sawDigit else { return nil }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index = bytes.index(after: index)
            if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { index = bytes.index(after: index) }
            var expDigit = false
            while let c = peek(), c >= 48, c <= 57 { expDigit = true; index = bytes.index(after: index) }
            guard expDigit else { return nil }
        }
        guard index == bytes.endIndex else { return nil }
        return Double(text)
    }
}
