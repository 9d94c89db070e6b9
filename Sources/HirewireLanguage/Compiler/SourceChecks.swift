import Foundation

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

    /// Checks the source and returns its compiled form (nil when it has errors).
    @discardableResult
    func run() -> CompiledSource? {
        let before = reader.diagnostics.errorCount
        var rules: [CompiledSource.Rule] = []
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
        let eventId = source.eventId.flatMap { check($0) }
        for rule in source.rules {
            EventTypes.check(rule.type, reader: reader)
            let when = rule.when.flatMap { check($0, boolean: true) }
            let occurred = rule.occurredAt.flatMap { check($0) }
            var filled: Set<String> = []
            var fields: [(entity: String, field: String, expression: CompiledExpression)] = []
            for (field, expression) in rule.data {
                let compiled = check(expression)
                let parts = field.value.split(separator: ".").map(String.init)
                guard parts.count == 2, EventCatalog.v1.fieldType(entity: parts[0], field: parts[1]) != nil else {
                    let all = EventCatalog.v1.entityNames.flatMap { e in EventCatalog.v1.fieldNames(entity: e).map { "\(e).\($0)" } }
                    reader.error("'\(field.value)' is not a canonical field\(Suggest.hint(for: field.value, in: all))", at: field.location, code: "unknown-field")
                    continue
                }
                filled.insert(field.value)
                if let compiled { fields.append((parts[0], parts[1], compiled)) }
            }
            let missing = EventCatalog.v1.requiredFields(for: rule.type.value).subtracting(filled).sorted()
            if !missing.isEmpty && rule.enrichFromApplication && !filled.contains("application.id") {
                reader.error("enrich: application needs this rule to set application.id", at: rule.type.location, code: "missing-field")
            } else if !missing.isEmpty && !rule.enrichFromApplication {
                reader.error("\(rule.type.value) requires \(missing.joined(separator: ", ")), which this rule never sets", at: rule.type.location, code: "missing-field")
            }
            rules.append(CompiledSource.Rule(when: when, type: rule.type.value, occurredAt: occurred, fields: fields, enrich: rule.enrichFromApplication))
        }
        guard reader.diagnostics.errorCount == before else { return nil }
        return CompiledSource(name: source.name.value, signature: source.signature?.toValue() ?? .null, eventId: eventId, rules: rules)
    }

    private func check(_ source: ExpressionSource, boolean: Bool = false) -> CompiledExpression? {
        do {
            let expr = try ExprParser.parse(source.text)
            let type = try ExprChecker(scope: SourceScope()).check(expr)
            if boolean, type.kind != .bool, type.kind != .any {
                reader.error("when must be boolean; '\(source.text)' is \(type)", at: source.location, code: "non-boolean-condition")
                return nil
            }
            return CompiledExpression(source: source, expr: expr, type: type)
        } catch {
            reader.error(error.message, at: source.location.advanced(by: error.offset), code: error.code)
            return nil
        }
    }
}

/// A source file compiled: it turns a verified delivery into a canonical event.
public struct CompiledSource: Sendable {
    public struct Rule: Sendable {
        public var when: CompiledExpression?
        public var type: String
        public var occurredAt: CompiledExpression?
        public var fields: [(entity: String, field: String, expression: CompiledExpression)]
        /// Whether missing fields are filled from the application's earlier events.
        public var enrich: Bool = false
    }

    public var name: String
    /// The signature settings as written (`{scheme, secret, …}`); the intake reads them.
    public var signature: Value
    public var eventId: CompiledExpression?
    public var rules: [Rule]

    /// What a delivery becomes.
    public enum Outcome: Sendable, Equatable {
        /// A canonical event: id, type, occurred_at and data.
        case mapped(id: String, type: String, occurredAt: Date, data: Value)
        /// No rule matched: stored and shown as ignored.
        case ignored(id: String, reason: String)
        /// A rule matched but a required field is missing: review. `application` is the
        /// application the event is about, when the payload names one.
        case review(id: String, type: String, missing: [String], application: String?)
    }

    /// The delivery's event id (`event_id`, else the body's hash).
    /// Whether the event id needs the parsed body (else intake only checks that the body is JSON).
    public var eventIdReadsBody: Bool { eventId?.expr.readPaths.contains { $0 == "body" || $0.hasPrefix("body.") } ?? false }

    public func deliveryId(body: Value, headers: [String: String], sha256: String, now: Date) -> String {
        let context = ExprContext(roots: ["body": body], now: now, headers: headers, bodySHA256: sha256)
        let id = eventId?.evaluate(context) ?? .null
        return id.isNull ? sha256 : id.displayString
    }

    /// Entities an application's earlier events described, which `enrich: application` may fill in.
    public static let enrichableEntities = ["candidate", "application", "job", "recruiter", "hiring_manager", "offer"]

    /// `profile` with what `data` says about its application merged in (non-null values replace
    /// older ones), or nil when nothing changed: what later id-only events are filled from.
    public static func remembering(_ data: Value, into profile: [String: Value]) -> [String: Value]? {
        var profile = profile
        var changed = false
        for entity in enrichableEntities {
            guard case .object(let fields) = data[entity] else { continue }
            var members = profile[entity]?.objectValue ?? [:]
            for (field, value) in fields where !value.isNull && members[field] != value {
                members[field] = value
                changed = true
            }
            profile[entity] = .object(members)
        }
        return changed ? profile : nil
    }

    /// The dotted fields `event`'s type requires that `data` lacks.
    public static func missingRequired(type: String, data: Value) -> [String] {
        EventCatalog.v1.requiredFields(for: type).sorted().filter { data.value(at: $0.split(separator: ".").map(String.init)).isNull }
    }

    /// A canonical event's data as Hirewire takes it in: when it lacks a field its type
    /// requires, what its application's earlier events said (`known`, asked only then) fills
    /// the gaps. `missing` lists what is still absent: such an event waits for review.
    public static func completing<E: Error>(_ data: Value, type: String,
                                            known: () throws(E) -> [String: Value]?) throws(E) -> (data: Value, missing: [String]) {
        let missing = missingRequired(type: type, data: data)
        guard !missing.isEmpty, case .object(let members) = data, let known = try known() else { return (data, missing) }
        let filled = Value.object(fill(members, from: known))
        return (filled, missingRequired(type: type, data: filled))
    }

    /// What a review says of an event that lacks fields its type requires.
    public static func incompleteReason(type: String, missing: [String]) -> String {
        "\(type) without \(missing.joined(separator: ", "))"
    }

    /// `data` with the fields it lacks (absent or null) taken from `known`, entity by entity.
    public static func fill(_ data: [String: Value], from known: [String: Value]) -> [String: Value] {
        var data = data
        for entity in enrichableEntities {
            guard case .object(let before)? = known[entity] else { continue }
            var members = data[entity]?.objectValue ?? [:]
            for (field, value) in before where members[field]?.isNull ?? true { members[field] = value }
            data[entity] = .object(members)
        }
        return data
    }

    /// Maps a parsed payload: the first rule whose `when` holds decides. `known` gives what earlier
    /// events said about an application (for rules with `enrich: application`); the payload's
    /// own non-null values always win.
    public func map(body: Value, headers: [String: String], sha256: String, receivedAt: Date,
                    known: (String) -> Value? = { _ in nil }) -> Outcome {
        let context = ExprContext(roots: ["body": body], now: receivedAt, headers: headers, bodySHA256: sha256)
        let id = deliveryId(body: body, headers: headers, sha256: sha256, now: receivedAt)
        guard let rule = rules.first(where: { $0.when?.holds(context) ?? true }) else {
            return .ignored(id: id, reason: "no rule of source \(name) matches")
        }
        var data: [String: Value] = [:]
        for (entity, field, expression) in rule.fields {
            let value = expression.evaluate(context)
            var members = data[entity]?.objectValue ?? [:]
            members[field] = value
            data[entity] = .object(members)
        }
        if rule.enrich, let application = data["application"]?["id"].stringValue, case .object(let earlier)? = known(application) {
            data = Self.fill(data, from: earlier)
        }
        let missing = EventCatalog.v1.requiredFields(for: rule.type).filter { path in
            let parts = path.split(separator: ".").map(String.init)
            return Value.object(data).value(at: parts).isNull
        }.sorted()
        if !missing.isEmpty { return .review(id: id, type: rule.type, missing: missing, application: data["application"]?["id"].stringValue) }
        let occurred = rule.occurredAt?.evaluate(context).asTimestamp ?? receivedAt
        return .mapped(id: id, type: rule.type, occurredAt: occurred, data: .object(data))
    }
}

/// What each application's events said so far, kept in memory as the store keeps application
/// profiles: how `simulate`, `test` and the flow-test checks take canonical events in.
public struct ApplicationProfiles: Sendable {
    private var byApplication: [String: [String: Value]] = [:]

    public init() {}

    /// An event's data completed as ``CompiledSource/completing(_:type:known:)`` does, and
    /// remembered for later events when nothing is missing; `news` is its application when that
    /// added to what was known.
    public mutating func takeIn(_ data: Value, type: String) -> (data: Value, missing: [String], news: String?) {
        let application = data["application"]["id"].stringValue
        let profiles = byApplication
        let (completed, missing) = CompiledSource.completing(data, type: type) { application.flatMap { profiles[$0] } }
        if missing.isEmpty, let application, let changed = CompiledSource.remembering(completed, into: byApplication[application] ?? [:]) {
            byApplication[application] = changed
            return (completed, missing, application)
        }
        return (completed, missing, nil)
    }

    /// `data` with the fields it lacks filled from what its application's events said.
    public func filled(_ data: Value) -> Value {
        guard let application = data["application"]["id"].stringValue, let known = byApplication[application],
              case .object(let members) = data else { return data }
        return .object(CompiledSource.fill(members, from: known))
    }
}
