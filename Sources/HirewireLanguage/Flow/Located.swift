/// A value together with where it was written.
public struct Located<T: Sendable & Hashable>: Sendable, Hashable {
    public var value: T
    public var location: SourceLocation
    public init(_ value: T, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// The text of an expression as written, and where its first character stands.
public struct ExpressionSource: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    /// The location of the expression's first character (after an opening quote).
    public var location: SourceLocation
    public init(_ text: String, at location: SourceLocation) {
        self.text = text
        self.location = location
    }
    public var description: String { text }
}
