/// A growable run of UTF-8 bytes that JSON and rendered templates are written into.
///
/// A class over memory it allocates itself: an `[UInt8]` checked its uniqueness and went
/// through the generic `append(contentsOf:)` for each of the hundred and more strings a step's
/// rows hold, and that was most of the cost of writing them. One writer owns it at a time and it
/// never crosses threads (it is not `Sendable`).
///
/// `@exclusivity(unchecked)`: a class's stored properties are otherwise checked for overlapping
/// access at run time on every write (that check cost more than the copying); one owner and
/// no reentrancy make an overlap impossible.
public final class ByteBuffer {
    @exclusivity(unchecked) private var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    /// How many bytes are written.
    @exclusivity(unchecked) public private(set) var count = 0

    public init(capacity: Int = 256) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    public func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends a string's UTF-8 bytes as they are.
    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    /// Appends `n` copies of `byte`.
    func append(repeating byte: UInt8, count n: Int) {
        guard n > 0 else { return }
        if count + n > capacity { grow(to: count + n) }
        (base + count).update(repeating: byte, count: n)
        count += n
    }

    private func grow(to needed: Int) {
        let newCapacity = Swift.max(capacity * 2, needed)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    /// The bytes written, as text (they are UTF-8 by construction).
    public var string: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }
}
