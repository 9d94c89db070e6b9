/// The static type of an expression: a kind and whether it may be null.
public struct ExprType: Sendable, Hashable, CustomStringConvertible {
    /// Kinds of values.
    public enum Kind: String, Sendable, Hashable {
        case bool = "boolean", number, string, timestamp, duration, list, object, null
        /// Unknown until run time (`vars`, fields outside the catalog, `eval` without a schema).
        case any
    }

    public var kind: Kind
    public var nullable: Bool

    public init(_ kind: Kind, nullable: Bool = false) {
        self.kind = kind
        self.nullable = nullable || kind == .null
    }

    public static let bool = ExprType(.bool)
    public static let number = ExprType(.number)
    public static let string = ExprType(.string)
    public static let timestamp = ExprType(.timestamp)
    public static let duration = ExprType(.duration)
    public static let null = ExprType(.null, nullable: true)
    public static let any = ExprType(.any, nullable: true)

    /// This type, possibly null.
    public var orNull: ExprType { ExprType(kind, nullable: true) }
    /// This type without null.
    public var nonNull: ExprType { kind == .null ? self : ExprType(kind, nullable: false) }

    /// True when a value of this type may be used where `kind` is needed.
    func fits(_ needed: Kind) -> Bool {
        kind == needed || kind == .any || kind == .null || (needed == .timestamp && kind == .string)
    }

    /// The common type of two branches.
    static func join(_ a: ExprType, _ b: ExprType) -> ExprType {
        if a.kind == .null { return b.orNull }
        if b.kind == .null { return a.orNull }
        let kind: Kind = a.kind == b.kind ? a.kind : .any
        return ExprType(kind, nullable: a.nullable || b.nullable)
    }

    public var description: String { kind.rawValue + (nullable && kind != .null && kind != .any ? " or null" : "") }
}

/// What a scope says about a path.
public enum PathResolution: Sendable {
    case type(ExprType)
    /// The root name is not known; `suggestion` is a close known name.
    case unknownRoot(suggestion: String?)
    /// The path is not allowed here, with a message and code.
    case invalid(String, code: String)
}

/// The names an expression may use and their types; the compiler implements it per flow.
public protocol ExprScope: Sendable {
    /// The type of `root.member…` (members are keys; list indices appear as digits).
    func resolve(root: String, members: [String]) -> PathResolution
    /// Whether source-file functions (`header`, `sha256`) are available.
    var isSourceMode: Bool { get }
}

/// A scope that knows nothing: every name is `any`. Used by `hirewire eval`, which checks no schema.
public struct OpenScope: ExprScope {
    public var isSourceMode: Bool
    public init(sourceMode: Bool = false) { isSourceMode = sourceMode }
    public func resolve(root: String, members: [String]) -> PathResolution { .type(.any) }
}
