/// Writes one JSON object member by member, straight into bytes, for records whose shape is
/// known (a journey, a timer, an action, an audit entry). Building a `[String: Value]` first
/// only to write it hashed every key twice; that was most of a step's encoding cost.
///
/// Members must be given in ascending key order so the text is exactly what
/// ``Value/jsonString(pretty:)`` writes for the same object.
public struct JSONObjectWriter {
    /// Where the object is written (shared with the writers of enclosing and nested objects).
    public let bytes: ByteBuffer
    private var first = true

    /// A writer of a new object in a buffer of its own.
    public init(capacity: Int = 512) {
        self.init(into: ByteBuffer(capacity: capacity))
    }

    /// A writer of an object that starts at the end of `bytes`.
    public init(into bytes: ByteBuffer) {
        self.bytes = bytes
        bytes.append(123)
    }

    private mutating func key(_ name: JSONKey) {
        if !first { bytes.append(44) }
        first = false
        switch name.storage {
        case .literal(let literal) where literal.hasPointerRepresentation:
            // A record's own member names are identifiers: copied as they are, not scanned.
            assert(!String(describing: literal).utf8.contains { $0 < 0x20 || $0 == 34 || $0 == 92 || $0 >= 0x7F }, "a literal key needs escaping")
            bytes.append(34)
            bytes.append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            bytes.append(34)
        case .literal(let literal):
            Value.writeJSONString(literal.description, into: bytes)
        case .text(let text):
            Value.writeJSONString(text, into: bytes)
        }
        bytes.append(58)
    }

    /// A member holding any value.
    public mutating func add(_ name: JSONKey, _ value: Value) {
        key(name)
        value.writeJSON(into: bytes, pretty: false, indent: 0)
    }

    /// A member holding a string.
    public mutating func add(_ name: JSONKey, string: String) {
        key(name)
        Value.writeJSONString(string, into: bytes)
    }

    /// A member whose value is JSON text already written (by ``Value/jsonString(pretty:)``).
    public mutating func add(_ name: JSONKey, json: String) {
        key(name)
        bytes.append(json)
    }

    /// A member holding an object written by `body` (members in ascending key order too).
    public mutating func add(_ name: JSONKey, object body: (inout JSONObjectWriter) -> Void) {
        key(name)
        var inner = JSONObjectWriter(into: bytes)
        body(&inner)
        inner.close()
    }

    /// Ends the object (its closing brace); the bytes stay where they were written.
    public mutating func close() {
        bytes.append(125)
    }

    /// The object's text, closed.
    public mutating func finish() -> String {
        close()
        return bytes.string
    }
}

/// A member's name for ``JSONObjectWriter``: a string literal, written as it is (the names a
/// record's code spells out are plain identifiers, which JSON needs no escape for), or any text
/// (``init(_:)``), escaped as JSON requires.
public struct JSONKey: ExpressibleByStringLiteral {
    enum Storage {
        case literal(StaticString)
        case text(String)
    }

    let storage: Storage

    public init(stringLiteral value: StaticString) { storage = .literal(value) }

    /// A name known only at run time (an entity, a timeline field): escaped where needed.
    public init(_ text: String) { storage = .text(text) }
}
