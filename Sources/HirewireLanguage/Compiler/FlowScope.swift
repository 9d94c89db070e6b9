/// The names a flow's expressions and templates may use, with their types and whether they can
/// be null: canonical fields the start event requires or `require` lists are present; `let`
/// names take their expression's type; `journey`, `state` and listed `env` names are present;
/// `event` data and `vars` may be null.
struct FlowScope: ExprScope {
    /// Dotted fields that are present in every journey of this flow.
    let required: Set<String>
    /// Dotted fields the start event requires (what `start.key` may rely on).
    let startRequired: Set<String>
    let startTypes: [String]
    let lets: [String: ExprType]
    let envNames: Set<String>
    /// True for the scope of `start.key`: the start event alone.
    let startOnly: Bool
    /// True for the scope of `start.if`: the start event, `let` names and `env`, but nothing of a
    /// journey (`vars`, `journey`, `state`), which does not exist yet.
    var beforeJourney = false
    var isSourceMode: Bool { false }

    static let reservedRoots = ["event", "vars", "env", "journey", "state"]

    /// The scope `start.key` is checked in.
    var startEventScope: FlowScope {
        FlowScope(required: startRequired, startRequired: startRequired, startTypes: startTypes, lets: [:], envNames: [],
                  startOnly: true)
    }

    /// The scope `start.if` is checked in.
    var startConditionScope: FlowScope {
        var scope = self
        scope.beforeJourney = true
        return scope
    }

    /// The scope `policy.on_invalid` actions are checked in: they run because a `require` field
    /// is missing, over the start event's data, so only what the start event's type requires is
    /// present (intake sends an event without those to review) and any `let` may be null.
    var onInvalidScope: FlowScope {
        FlowScope(required: startRequired, startRequired: startRequired, startTypes: startTypes,
                  lets: lets.mapValues { ExprType($0.kind, nullable: true) }, envNames: envNames, startOnly: false)
    }

    /// A scope of the catalog alone, where every field may be null (calendar zone expressions).
    static func catalogOnly(envNames: Set<String>) -> FlowScope {
        FlowScope(required: [], startRequired: [], startTypes: [], lets: [:], envNames: envNames, startOnly: false)
    }

    static func make(flow: FlowSpec, project: ProjectContext, reader: NodeReader) -> FlowScope {
        let types = flow.start.on.map(\.value)
        var startRequired: Set<String>?
        for type in types {
            let fields = EventCatalog.v1.requiredFields(for: type)
            startRequired = startRequired.map { $0.intersection(fields) } ?? fields
        }
        let startSet = startRequired ?? []
        var required = startSet
        for entry in flow.require {
            if let parts = try? ExprParser.parse(entry.text).pathComponents { required.insert(parts.joined(separator: ".")) }
        }
        var scope = FlowScope(required: required, startRequired: startSet, startTypes: types, lets: [:],
                              envNames: project.config.envNames, startOnly: false)
        var lets: [String: ExprType] = [:]
        let roots = EventCatalog.v1.entityNames + reservedRoots
        let letNames = flow.lets.map(\.name.value)
        for (index, binding) in flow.lets.enumerated() {
            let name = binding.name.value
            if roots.contains(name) {
                reader.error("let '\(name)' shadows the root '\(name)'; choose another name", at: binding.name.location, code: "let-shadows-root")
                continue
            }
            do {
                let expr = try ExprParser.parse(binding.expression.text)
                lets[name] = try ExprChecker(scope: scope).check(expr)
            } catch {
                let at = binding.expression.location.advanced(by: error.offset)
                // A name of this `let` or a later one: each sees only the names above it.
                if error.code == "unknown-name", let read = error.name,
                   let later = letNames[index...].firstIndex(of: read) {
                    let message = later == index
                        ? "let '\(name)' reads itself; a let name is computed from the names above it and the context"
                        : "let '\(name)' reads '\(read)', which is defined below it; a let name sees only the names above it, so move '\(read)' up"
                    reader.error(message, at: at, code: "let-order")
                } else {
                    reader.error(error.message, at: at, code: error.code)
                }
                // Not nullable: its uses are reported here once, not again at every template tag.
                lets[name] = ExprType(.any)
            }
            scope = FlowScope(required: required, startRequired: startSet, startTypes: types, lets: lets,
                              envNames: project.config.envNames, startOnly: false)
        }
        return scope
    }

    func resolve(root: String, members: [String]) -> PathResolution {
        if EventCatalog.v1.entityNames.contains(root) {
            guard let field = members.first else { return .type(ExprType(.object, nullable: true)) }
            guard let kind = EventCatalog.v1.fieldType(entity: root, field: field) else {
                let fields = EventCatalog.v1.fieldNames(entity: root)
                return .invalid("\(root) has no field '\(field)'\(Suggest.hint(for: field, in: fields))", code: "unknown-field")
            }
            if members.count > 1 { return .invalid("\(root).\(field) is a \(kind.rawValue) and has no fields", code: "expression-type") }
            return .type(ExprType(kind, nullable: !required.contains("\(root).\(field)")))
        }
        switch root {
        case "event":
            guard let first = members.first else { return .type(.init(.object)) }
            switch first {
            case "id", "type", "source": return members.count == 1 ? .type(.string) : .invalid("event.\(first) has no fields", code: "expression-type")
            case "occurred_at": return members.count == 1 ? .type(.timestamp) : .invalid("event.occurred_at has no fields", code: "expression-type")
            case "data":
                guard members.count >= 2 else { return .type(.init(.object)) }
                let entity = members[1]
                guard EventCatalog.v1.entityNames.contains(entity) else {
                    return .type(.any)
                }
                guard members.count >= 3 else { return .type(ExprType(.object, nullable: true)) }
                guard let kind = EventCatalog.v1.fieldType(entity: entity, field: members[2]) else {
                    let fields = EventCatalog.v1.fieldNames(entity: entity)
                    return .invalid("\(entity) has no field '\(members[2])'\(Suggest.hint(for: members[2], in: fields))", code: "unknown-field")
                }
                return .type(ExprType(kind, nullable: true))
            default:
                return .invalid("event has no field '\(first)' (it has id, type, occurred_at, source, data)\(Suggest.hint(for: first, in: ["id", "type", "occurred_at", "source", "data"]))",
                                code: "unknown-field")
            }
        default:
            break
        }
        if startOnly {
            return .invalid("start.key sees only the start event: use event or a canonical entity, not '\(root)'", code: "unknown-name")
        }
        if let type = lets[root] {
            return members.isEmpty ? .type(type) : .type(.any)
        }
        if beforeJourney, ["vars", "journey", "state"].contains(root) {
            return .invalid("start.if is checked before the journey exists: '\(root)' has no value there (use the event, its entities, a let name or env)",
                            code: "start-if-root")
        }
        switch root {
        case "vars":
            return .type(.any)
        case "env":
            guard let name = members.first else { return .invalid("env needs a variable name: env.NAME", code: "unknown-env") }
            guard envNames.contains(name) else {
                return .invalid("env.\(name) is not listed under env: in hirewire.yaml\(Suggest.hint(for: name, in: envNames))", code: "unknown-env")
            }
            return .type(.string)
        case "journey":
            let fields = ["id", "key", "flow", "version", "started_at"]
            guard let f = members.first else { return .type(.init(.object)) }
            guard fields.contains(f) else { return .invalid("journey has no field '\(f)'\(Suggest.hint(for: f, in: fields))", code: "unknown-field") }
            return .type(f == "started_at" ? .timestamp : .string)
        case "state":
            let fields = ["name", "entered_at"]
            guard let f = members.first else { return .type(.init(.object)) }
            guard fields.contains(f) else { return .invalid("state has no field '\(f)'\(Suggest.hint(for: f, in: fields))", code: "unknown-field") }
            return .type(f == "entered_at" ? .timestamp : .string)
        default:
            let known = EventCatalog.v1.entityNames + Self.reservedRoots + lets.keys.sorted()
            return .unknownRoot(suggestion: Suggest.closest(to: root, in: known))
        }
    }

    /// Whether a template variable (dotted Mustache name) is certainly present.
    func isPresent(_ dotted: String) -> Bool {
        let parts = dotted.split(separator: ".").map(String.init)
        guard let root = parts.first else { return false }
        if case .type(let t) = resolve(root: root, members: Array(parts.dropFirst())) { return !t.nullable }
        return false
    }
}
