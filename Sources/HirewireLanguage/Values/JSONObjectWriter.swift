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

    private mutating func key(_ name: String) {
        if !first { bytes.append(44) }
        first = false
        Value.writeJSONString(name, into: bytes)
        bytes.append(58)
    }

    /// A member holding any value.
    public mutating func add(_ name: String, _ value: Value) {
        key(name)
        value.writeJSON(into: bytes, pretty: false, indent: 0)
    }

    /// A member holding a string.
    public mutating func add(_ name: String, string: String) {
        key(name)
        Value.writeJSONString(string, into: bytes)
    }

    /// A member whose value is JSON text already written (by ``Value/jsonString(pretty:)``).
    public mutating func add(_ name: String, json: String) {
        key(name)
        bytes.append(json)
    }

    /// A member holding an object written by `body` (members in ascending key order too).
    public mutating func add(_ name: String, object body: (inout JSONObjectWriter) -> Void) {
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
