import Foundation

/// Errors reading JSON payloads into ``Value``.
public struct JSONDecodeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension Value {
    /// Parses JSON text (payloads and data files; flow files go through the YAML loader, which
    /// keeps positions). Object key order is not kept.
    ///
    /// Foundation's `JSONSerialization` reads it: a fifth of the cost of decoding `Value` through
    /// `Decodable`, and every webhook body is read this way. Its errors say where the text broke
    /// ("around character 9"), which `JSONDecoder`'s do not on Linux.
    public static func parseJSON(_ data: Data) throws(JSONDecodeError) -> Value {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw JSONDecodeError(message: "not valid JSON: \(detail)")
        }
        guard let value = Value(foundation: object) else { throw JSONDecodeError(message: "not valid JSON: a value JSON does not have") }
        return value
    }

    /// The class of the numbers `JSONSerialization` gives for `true` and `false` (`1` and `0`
    /// come as other numbers, though both bridge to `Bool`).
    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// A value from what `JSONSerialization` read; nil for anything JSON does not have.
    /// Containers and strings are asked for first: asking whether a dictionary is an `NSNumber`
    /// bridges the whole dictionary to find out.
    init?(foundation object: Any) {
        switch object {
        case let members as [String: Any]:
            var out: [String: Value] = Dictionary(minimumCapacity: members.count)
            for (key, member) in members {
                guard let value = Value(foundation: member) else { return nil }
                out[key] = value
            }
            self = .object(out)
        case let items as [Any]:
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let value = Value(foundation: item) else { return nil }
                out.append(value)
            }
            self = .array(out)
        case let text as String:
            self = .string(text)
        case is NSNull:
            self = .null
        case let decimal as NSDecimalNumber:
            // Long decimals (16 digits and more) come as decimal numbers, whose `doubleValue` is
            // not correctly rounded: `0.30000000000000004` read as `0.3000000000000001`.
            self = .number(Double(decimal.stringValue) ?? decimal.doubleValue)
        case let number as NSNumber:
            self = ObjectIdentifier(type(of: number)) == Self.booleanClass ? .bool(number.boolValue) : .number(number.doubleValue)
        default:
            return nil
        }
    }

    /// Parses JSON text given as a string.
    public static func parseJSON(_ text: String) throws(JSONDecodeError) -> Value {
        try parseJSON(Data(text.utf8))
    }

    /// Compact JSON with object keys sorted (stable output for diffs and tests). Timestamps are
    /// RFC 3339 UTC strings; durations are written like `36h`.
    public func jsonString(pretty: Bool = false) -> String {
        let out = ByteBuffer(capacity: 256)
        writeJSON(into: out, pretty: pretty, indent: 0)
        return out.string
    }

    private func newline(_ out: ByteBuffer, _ pretty: Bool, _ indent: Int) {
        guard pretty else { return }
        out.append(10)
        out.append(repeating: 32, count: indent * 2)
    }

    func writeJSON(into out: ByteBuffer, pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .number(let n): out.append(Value.formatNumber(n))
        case .string(let s): Value.writeJSONString(s, into: out)
        case .timestamp(let d): Value.writeJSONString(Timestamp.format(d), into: out)
        case .duration(let seconds): Value.writeJSONString(DurationFormat.format(seconds), into: out)
        case .array(let items):
            if items.isEmpty { out.append(91); out.append(93); return }
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(44) }
                newline(out, pretty, indent + 1)
                item.writeJSON(into: out, pretty: pretty, indent: indent + 1)
            }
            newline(out, pretty, indent)
            out.append(93)
        case .object(let members):
            if members.isEmpty { out.append(123); out.append(125); return }
            out.append(123)
            // Keys in order, so equal values always write the same text.
            for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(44) }
                newline(out, pretty, indent + 1)
                Value.writeJSONString(member.key, into: out)
                out.append(58)
                if pretty { out.append(32) }
                member.value.writeJSON(into: out, pretty: pretty, indent: indent + 1)
            }
            newline(out, pretty, indent)
            out.append(125)
        }
    }

    /// Integers without a fraction (`42`, not `42.0`); other numbers in their shortest form.
    public static func formatNumber(_ n: Double) -> String {
        if n.isNaN || n.isInfinite { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    /// Writes `s` as a JSON string. Besides what JSON requires (`"`, `\`, controls below U+0020),
    /// characters that YAML does not take raw inside a quoted scalar are written as `\u` escapes:
    /// DEL and the C1 controls (U+007F–U+009F; a raw NEL would read back as a space), the line and
    /// paragraph separators, the byte-order mark and the noncharacters U+FFFE/U+FFFF. The store's
    /// reader is libyaml, and a record it cannot read back would be lost to it.
    static func writeJSONString(_ s: String, into out: ByteBuffer) {
        out.append(34)
        var s = s
        s.withUTF8 { bytes in
            // Runs of bytes that need no escape are copied whole.
            var run = 0
            var i = 0
            let count = bytes.count
            while i < count {
                // Eight bytes at a time while none of them needs a look (most text is plain ASCII).
                if let base = bytes.baseAddress, i + 8 <= count,
                   !Self.wordNeedsLook(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                // The last few bytes at once too, padded with spaces (short keys are most strings).
                if let base = bytes.baseAddress, i + 8 > count, i < count, !Self.wordNeedsLook(Self.tailWord(base + i, count - i)) {
                    i = count
                    break
                }
                let byte = bytes[i]
                // Printable ASCII other than `"` and `\` (nearly every byte) goes straight on.
                if byte >= 32, byte < 0x7F, byte != 34, byte != 92 {
                    i += 1
                    continue
                }
                let scalar: UInt32
                let width: Int
                if byte < 32 || byte == 34 || byte == 92 || byte == 0x7F {
                    scalar = UInt32(byte); width = 1
                } else if byte == 0xC2, i + 1 < count, bytes[i + 1] < 0xA0 {
                    scalar = UInt32(bytes[i + 1]); width = 2                      // U+0080–U+009F
                } else if byte == 0xE2, i + 2 < count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                    scalar = 0x2000 | UInt32(bytes[i + 2] & 0x3F); width = 3      // U+2028, U+2029
                } else if byte == 0xEF, i + 2 < count,
                          (bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF) || (bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE) {
                    scalar = 0xF000 | (UInt32(bytes[i + 1] & 0x3F) << 6) | UInt32(bytes[i + 2] & 0x3F); width = 3  // U+FEFF, U+FFFE, U+FFFF
                } else {
                    i += 1
                    continue
                }
                if run < i { out.append(UnsafeBufferPointer(rebasing: bytes[run..<i])) }
                i += width
                run = i
                out.append(92)
                switch scalar {
                case 34: out.append(34)
                case 92: out.append(92)
                case 10: out.append(110)
                case 13: out.append(114)
                case 9: out.append(116)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(117)
                    for shift in [12, 8, 4, 0] as [UInt32] { out.append(hex.utf8Start[Int((scalar >> shift) & 15)]) }
                }
            }
            if run < count { out.append(UnsafeBufferPointer(rebasing: bytes[run..<count])) }
        }
        out.append(34)
    }

    /// The `n` (1 to 7) bytes at `start` as a word, the rest of it spaces.
    @inline(__always)
    static func tailWord(_ start: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var word: UInt64 = 0x2020_2020_2020_2020
        withUnsafeMutableBytes(of: &word) { $0.baseAddress?.copyMemory(from: start, byteCount: n) }
        return word
    }

    /// Whether any of the eight bytes in `word` is not printable ASCII other than `"` and `\\`:
    /// a control (below 0x20), DEL, a byte of a multi-byte character, a quote or a backslash.
    @inline(__always)
    static func wordNeedsLook(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let below32 = (word &- ones &* 0x20) & ~word & highs
        return below32 != 0 || word & highs != 0 || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
            || hasZeroByte(word ^ (ones &* 0x7F))
    }

    /// The text a template shows for this value: strings as they are, numbers without a
    /// needless `.0`, timestamps in RFC 3339, lists and objects as JSON, null as the empty string.
    public var displayString: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Value.formatNumber(n)
        case .string(let s): return s
        case .timestamp(let d): return Timestamp.format(d)
        case .duration(let seconds): return DurationFormat.format(seconds)
        case .array, .object: return jsonString()
        }
    }
}

/// Formats elapsed seconds the way flow files write durations: `36h`, `1d12h`, `90s`.
public enum DurationFormat {
    public static func format(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        var rest = Int64(abs(seconds).rounded())
        var out = seconds < 0 ? "-" : ""
        // Days at most: 30d reads better than 4w2d.
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

extension Value: Codable {
    /// Decodes any JSON value; numbers stay numbers and booleans stay booleans.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([Value].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: Value].self))
        }
    }

    /// Encodes as JSON (timestamps as RFC 3339 strings, durations as `36h`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .timestamp(let d): try container.encode(Timestamp.format(d))
        case .duration(let d): try container.encode(DurationFormat.format(d))
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension Value {
    /// Parses strict JSON through libyaml, about four times faster here than Foundation's
    /// parsers. libyaml refuses `\u` escapes of UTF-16 surrogates, which Hirewire's own writer
    /// never produces (it writes UTF-8 as is), so this is for JSON Hirewire wrote itself — the
    /// store's records; payloads from outside go through ``parseJSON(_:)-(Data)``.
    public static func parseOwnJSON(_ text: String) -> Value? {
        try? YAMLLoader.load(Array(text.utf8), file: "", json: true).toValue()
    }

    /// Reads JSON this program wrote into a store (journeys, timers, actions, audit rows):
    /// libyaml's events straight into values, with none of the flow-file loader's positions and
    /// diagnostics. Nil when the text is not such JSON.
    ///
    /// Rows written before the writer escaped DEL, C1 controls and noncharacters may hold them raw,
    /// which libyaml refuses; those are read with Foundation's parser instead.
    public static func parseStoredJSON(_ text: String) -> Value? {
        StoredJSONReader.read(text) ?? (try? parseJSON(text))
    }
}
