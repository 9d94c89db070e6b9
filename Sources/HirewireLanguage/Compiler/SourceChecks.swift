/// The names a source file's expressions may use: `body` (the parsed payload) and the
/// functions `header(name)` and `sha256(body)`.
struct SourceScope: ExprScope {
    var isSourceMode: Bool { true }
    func resolve(root: String, members: [String]) -> PathResolution {
        root == "body" ? .type(.any) : .unknownRoot(suggestion: Suggest.closest(to: root, in: ["body"]))
    }
}

/// Checks a vendor source file: its expressions, its event types and the canonical fields it fills.
struct SourceChecks {
    let source: SourceSpec
    let reader: NodeReader

    static let schemes = ["standard-webhooks", "hmac-sha256", "greenhouse", "lever", "ashby", "workable", "none"]

    func run() {
        if source.name.value.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) == nil {
            reader.error("source name '\(source.name.value)' must use lower-case letters, digits, '-' and '_'", at: source.name.location, code: "invalid-value")
        }
        if let signature = source.signature {
            if let scheme = signature["scheme"] {
                if let name = reader.string(scheme, "scheme"), !Self.schemes.contains(name.value) {
                    reader.error("unknown signature scheme '\(name.value)'\(Suggest.hint(for: name.value, in: Self.schemes))", at: name.location, code: "unknown-scheme")
                }
            } else {
                reader.missing("scheme", in: "signature", at: signature.location)
            }
        }
        if let id = source.eventId { check(id) }
        for rule in source.rules {
            EventTypes.check(rule.type, reader: reader)
            if let when = rule.when { check(when, boolean: true) }
            if let occurred = rule.occurredAt { check(occurred) }
            var filled: Set<String> = []
            for (field, expression) in rule.data {
                check(expression)
                let parts = field.value.split(separator: ".").map(String.init)
                guard parts.count == 2, EventCatalog.v1.fieldType(entity: parts[0], field: parts[1]) != nil else {
                    let all = EventCatalog.v1.entityNames.flatMap { e in EventCatalog.v1.fieldNames(entity: e).map { "\(e).\($0)" } }
                    reader.error("'\(field.value)' is not a canonical field\(Suggest.hint(for: field.value, in: all))", at: field.location, code: "unknown-field")
                    continue
                }
                filled.insert(field.value)
            }
            let missing = EventCatalog.v1.requiredFields(for: rule.type.value).subtracting(filled).sorted()
            if !missing.isEmpty {
                reader.error("\(rule.type.value) requires \(missing.joined(separator: ", ")), which this rule never sets", at: rule.type.location, code: "missing-field")
            }
        }
    }

    private func check(_ source: ExpressionSource, boolean: Bool = false) {
        do {
            let expr = try ExprParser.parse(source.text)
            let type = try ExprChecker(scope: SourceScope()).check(expr)
            if boolean, type.kind != .bool, type.kind != .any {
                reader.error("when must be boolean; '\(source.text)' is \(type)", at: source.location, code: "non-boolean-condition")
            }
        } catch {
            reader.error(error.message, at: source.location.advanced(by: error.offset), code: error.code)
        }
    }
}
