import Foundation

/// One place where an instance breaks its schema: the JSON pointer of the value and why.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON pointer into the instance, such as `/states/extended/after/0/delay`.
    public var pointer: String
    public var message: String
    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

/// A JSON Schema (draft 2020-12) validator for the subset Hirewire's schemas and connector
/// plugins' `args_schema` use: type, properties, required, additionalProperties,
/// patternProperties, propertyNames, items, prefixItems, min/maxItems, min/maxProperties,
/// enum, const, pattern, min/maxLength, minimum/maximum (and exclusive ones), allOf, anyOf,
/// oneOf, not, if/then/else, local `$ref` into `$defs`, and `format: date-time`.
/// Unsupported keywords are reported by ``unsupportedKeywords(in:)`` so a schema never
/// silently means less than it says.
public struct JSONSchema: Sendable {
    public let root: Value

    public init(_ root: Value) { self.root = root }

    static let annotations: Set<String> = ["$schema", "$id", "$comment", "title", "description", "examples", "default",
                                           "markdownDescription", "deprecated", "readOnly", "writeOnly"]
    static let supported: Set<String> = ["type", "properties", "required", "additionalProperties", "patternProperties",
                                         "propertyNames", "items", "prefixItems", "minItems", "maxItems", "minProperties",
                                         "maxProperties", "enum", "const", "pattern", "minLength", "maxLength", "minimum",
                                         "maximum", "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf", "not",
                                         "if", "then", "else", "$ref", "$defs", "format"]

    /// Every violation of the schema by `instance` (empty when it is valid).
    public func validate(_ instance: Value) -> [SchemaViolation] {
        var out: [SchemaViolation] = []
        check(instance, root, "", &out, depth: 0)
        return out
    }

    /// Keywords the validator does not understand, with where they stand in the schema.
    public static func unsupportedKeywords(in schema: Value, at pointer: String = "") -> [String] {
        var out: [String] = []
        guard case .object(let o) = schema else { return out }
        for (key, value) in o {
            let here = pointer + "/" + key
            if !annotations.contains(key), !supported.contains(key) { out.append(here) }
            switch key {
            case "properties", "patternProperties", "$defs":
                for (name, sub) in value.objectValue ?? [:] { out += unsupportedKeywords(in: sub, at: here + "/" + name) }
            case "allOf", "anyOf", "oneOf", "prefixItems":
                for (i, sub) in (value.arrayValue ?? []).enumerated() { out += unsupportedKeywords(in: sub, at: here + "/\(i)") }
            case "items", "additionalProperties", "propertyNames", "not", "if", "then", "else":
                out += unsupportedKeywords(in: value, at: here)
            default:
                break
            }
        }
        return out
    }

    private func resolve(_ ref: String) -> Value? {
        guard ref.hasPrefix("#") else { return nil }
        var node = root
        for part in ref.dropFirst().split(separator: "/") {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node[key]
            if node.isNull { return nil }
        }
        return node
    }

    private func check(_ value: Value, _ schema: Value, _ pointer: String, _ out: inout [SchemaViolation], depth: Int) {
        func fail(_ message: String) { out.append(SchemaViolation(pointer: pointer, message: message)) }
        if case .bool(let allowed) = schema {
            if !allowed { fail("no value is allowed here") }
            return
        }
        guard case .object(let s) = schema, depth < 64 else { return }
        if let ref = s["$ref"]?.stringValue {
            if let target = resolve(ref) { check(value, target, pointer, &out, depth: depth + 1) } else { fail("unresolvable $ref \(ref)") }
        }
        if let type = s["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? ""]
            if !allowed.contains(where: { Self.matches(value, type: $0) }) {
                fail("expected \(allowed.joined(separator: " or ")), got \(value.kindName)")
                return
            }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(value) {
            fail("must be one of \(options.map { $0.jsonString() }.joined(separator: ", "))")
        }
        if let constant = s["const"], constant != value { fail("must be \(constant.jsonString())") }
        switch value {
        case .string(let text): checkString(text, s, fail)
        case .number(let n): checkNumber(n, s, fail)
        case .array(let items): checkArray(items, s, pointer, &out, depth: depth)
        case .object(let members): checkObject(members, s, pointer, &out, depth: depth)
        default: break
        }
        if let all = s["allOf"]?.arrayValue { for sub in all { check(value, sub, pointer, &out, depth: depth + 1) } }
        if let any = s["anyOf"]?.arrayValue {
            var best: [SchemaViolation]?
            for sub in any {
                var trial: [SchemaViolation] = []
                check(value, sub, pointer, &trial, depth: depth + 1)
                if trial.isEmpty { best = nil; break }
                if best == nil || trial.count < (best?.count ?? 0) { best = trial }
            }
            if let best { out += best.isEmpty ? [] : (any.count == 1 ? best : [SchemaViolation(pointer: pointer, message: "matches none of the allowed forms; closest: \(best[0].message)")]) }
        }
        if let one = s["oneOf"]?.arrayValue {
            var passing = 0
            for sub in one {
                var trial: [SchemaViolation] = []
                check(value, sub, pointer, &trial, depth: depth + 1)
                if trial.isEmpty { passing += 1 }
            }
            if passing != 1 { fail(passing == 0 ? "matches none of the allowed forms" : "matches more than one of the exclusive forms") }
        }
        if let not = s["not"] {
            var trial: [SchemaViolation] = []
            check(value, not, pointer, &trial, depth: depth + 1)
            if trial.isEmpty { fail("matches a form that is not allowed") }
        }
        if let condition = s["if"] {
            var trial: [SchemaViolation] = []
            check(value, condition, pointer, &trial, depth: depth + 1)
            if let branch = trial.isEmpty ? s["then"] : s["else"] { check(value, branch, pointer, &out, depth: depth + 1) }
        }
    }

    static func matches(_ value: Value, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number): return true
        case ("string", .timestamp), ("string", .duration): return true
        case ("integer", .number(let n)): return n == n.rounded()
        default: return false
        }
    }

    private func checkString(_ text: String, _ s: [String: Value], _ fail: (String) -> Void) {
        if let min = s["minLength"]?.numberValue, Double(text.count) < min { fail("must be at least \(Int(min)) characters") }
        if let max = s["maxLength"]?.numberValue, Double(text.count) > max { fail("must be at most \(Int(max)) characters") }
        if let pattern = s["pattern"]?.stringValue, let regex = RegexCache.shared.regex(pattern),
           regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
            fail("'\(text)' does not match \(pattern)")
        }
        if s["format"]?.stringValue == "date-time", Timestamp.parse(text) == nil { fail("'\(text)' is not an RFC 3339 date-time") }
    }

    private func checkNumber(_ n: Double, _ s: [String: Value], _ fail: (String) -> Void) {
        if let min = s["minimum"]?.numberValue, n < min { fail("must be ≥ \(Value.formatNumber(min))") }
        if let max = s["maximum"]?.numberValue, n > max { fail("must be ≤ \(Value.formatNumber(max))") }
        if let min = s["exclusiveMinimum"]?.numberValue, n <= min { fail("must be > \(Value.formatNumber(min))") }
        if let max = s["exclusiveMaximum"]?.numberValue, n >= max { fail("must be < \(Value.formatNumber(max))") }
    }

    private func checkArray(_ items: [Value], _ s: [String: Value], _ pointer: String, _ out: inout [SchemaViolation], depth: Int) {
        func fail(_ message: String) { out.append(SchemaViolation(pointer: pointer, message: message)) }
        if let min = s["minItems"]?.numberValue, Double(items.count) < min { fail("needs at least \(Int(min)) items") }
        if let max = s["maxItems"]?.numberValue, Double(items.count) > max { fail("takes at most \(Int(max)) items") }
        let prefix = s["prefixItems"]?.arrayValue ?? []
        for (i, item) in items.enumerated() {
            if i < prefix.count {
                check(item, prefix[i], pointer + "/\(i)", &out, depth: depth + 1)
            } else if let each = s["items"] {
                check(item, each, pointer + "/\(i)", &out, depth: depth + 1)
            }
        }
    }

    private func checkObject(_ members: [String: Value], _ s: [String: Value], _ pointer: String, _ out: inout [SchemaViolation], depth: Int) {
        func fail(_ message: String) { out.append(SchemaViolation(pointer: pointer, message: message)) }
        for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[key] == nil {
            fail("missing required key '\(key)'")
        }
        if let min = s["minProperties"]?.numberValue, Double(members.count) < min { fail("needs at least \(Int(min)) keys") }
        if let max = s["maxProperties"]?.numberValue, Double(members.count) > max { fail("takes at most \(Int(max)) keys") }
        let properties = s["properties"]?.objectValue ?? [:]
        let patterns = (s["patternProperties"]?.objectValue ?? [:]).compactMap { p, sub in RegexCache.shared.regex(p).map { ($0, sub) } }
        for key in members.keys.sorted() {
            let value = members[key] ?? .null
            let here = pointer + "/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            if let names = s["propertyNames"] { check(.string(key), names, here, &out, depth: depth + 1) }
            var matched = false
            if let sub = properties[key] {
                matched = true
                check(value, sub, here, &out, depth: depth + 1)
            }
            for (regex, sub) in patterns where regex.firstMatch(in: key, range: NSRange(key.startIndex..., in: key)) != nil {
                matched = true
                check(value, sub, here, &out, depth: depth + 1)
            }
            if !matched, let extra = s["additionalProperties"] {
                if case .bool(false) = extra {
                    out.append(SchemaViolation(pointer: here, message: "unknown key '\(key)'"))
                } else {
                    check(value, extra, here, &out, depth: depth + 1)
                }
            }
        }
    }
}
