import Foundation

/// Errors reading JSON payloads into ``Value``.
public struct JSONDecodeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension Value {
    /// Parses JSON text (payloads and data files; flow files go through the YAML loader, which
    /// keeps positions). Object key order is not kept.
    public static func parseJSON(_ data: Data) throws(JSONDecodeError) -> Value {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw JSONDecodeError(message: "not valid JSON: \(error.localizedDescription)")
        }
        return Value(foundation: object)
    }

    /// Parses JSON text given as a string.
    public static func parseJSON(_ text: String) throws(JSONDecodeError) -> Value {
        try parseJSON(Data(text.utf8))
    }

    /// Converts the output of `JSONSerialization` into a ``Value``.
    public init(foundation object: Any) {
        switch object {
        case is NSNull:
            self = .null
        case let n as NSNumber:
            // JSONSerialization yields NSNumber for booleans too; their Objective-C type is "c".
            if String(cString: n.objCType) == "c" {
                self = .bool(n.boolValue)
            } else {
                self = .number(n.doubleValue)
            }
        case let s as String:
            self = .string(s)
        case let a as [Any]:
            self = .array(a.map(Value.init(foundation:)))
        case let d as [String: Any]:
            self = .object(d.mapValues(Value.init(foundation:)))
        default:
            self = .null
        }
    }

    /// Compact JSON with object keys sorted (stable output for diffs and tests). Timestamps are
    /// RFC 3339 UTC strings; durations are written like `36h`.
    public func jsonString(pretty: Bool = false) -> String {
        var out = ""
        writeJSON(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func writeJSON(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += Value.formatNumber(n)
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .timestamp(let d): Value.writeJSONString(Timestamp.format(d), into: &out)
        case .duration(let seconds): Value.writeJSONString(DurationFormat.format(seconds), into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.writeJSON(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                Value.writeJSONString(key, into: &out)
                out += pretty ? ": " : ":"
                members[key, default: .null].writeJSON(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    /// Integers without a fraction (`42`, not `42.0`); other numbers in their shortest form.
    public static func formatNumber(_ n: Double) -> String {
        if n.isNaN || n.isInfinite { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
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
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
