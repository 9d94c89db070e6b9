/// The arguments of a compiled action: templates, expressions and literals in the shape written.
public indirect enum ArgumentTree: Sendable {
    /// A string argument: a Mustache template rendered with escaping off.
    case template(CompiledTemplate)
    /// A number, boolean or null written as is.
    case literal(Value)
    /// An expression (`set.vars` and `emit.data` values).
    case expression(CompiledExpression)
    case list([ArgumentTree])
    /// Entries in the order written.
    case object([(String, ArgumentTree)])
    /// A duration argument (`task.due`), in seconds.
    case duration(Double)
}

/// Checks and compiles actions: the connector exists, its arguments are the ones it takes,
/// templates parse and use only variables that are present or guarded.
struct ActionCompiler {
    let flow: FlowSpec
    let project: ProjectContext
    let scope: FlowScope
    let exprs: ExpressionCompiler
    let reader: NodeReader

    /// Compiles a `do` list. `guardedBy` is the condition of the transition or timer that runs
    /// it, whose `has()` tests also guard the actions' templates.
    func compile(_ specs: [ActionSpec], state: String?, stateIndex: [String: Int], guardedBy outer: CompiledExpression? = nil) -> [MachineAction] {
        let inherited = outer.map { exprs.guardedPaths($0) } ?? []
        return specs.compactMap { compile($0, state: state, stateIndex: stateIndex, inherited: inherited) }
    }

    private func compile(_ spec: ActionSpec, state: String?, stateIndex: [String: Int], inherited: Set<String>) -> MachineAction? {
        let name = spec.connector.value
        let condition = spec.condition.flatMap { exprs.compile($0, as: .condition) }
        let guarded = inherited.union(condition.map { exprs.guardedPaths($0) } ?? [])
        var onErrorTarget: Int?
        if case .goto(let target) = spec.onError {
            onErrorTarget = stateIndex[target.value]
            if state == nil {
                reader.error("on_error: goto needs a state to leave; this action is not in a state", at: target.location, code: "invalid-value")
            }
        }
        var audience: Audience = .team
        var arguments: ArgumentTree
        var templateName: String?
        if let contract = ConnectorCatalog.builtIns[name] {
            audience = contract.defaultAudience
            guard let (tree, template) = builtIn(spec, contract: contract, guarded: guarded) else { return nil }
            arguments = tree
            templateName = template
        } else if project.isPlugin(name) {
            if let schema = project.pluginSchemas[name] { checkPluginArguments(spec, schema: schema) }
            arguments = templated(spec.arguments, guarded: guarded)
        } else {
            let known = ConnectorCatalog.names + project.pluginNames
            reader.error("unknown connector '\(name)'\(Suggest.hint(for: name, in: known)); built-ins are \(ConnectorCatalog.names.joined(separator: ", ")), plugins come from hirewire.yaml connectors",
                         at: spec.connector.location, code: "unknown-connector")
            return nil
        }
        if let written = spec.audience { audience = Audience(rawValue: written.value) ?? audience }
        return MachineAction(connector: name, arguments: arguments, condition: condition, id: spec.id?.value,
                             retryAttempts: spec.retryAttempts?.value, retryBackoff: spec.retryBackoff?.value,
                             onErrorTarget: onErrorTarget, audience: audience, exempt: spec.exempt,
                             templateName: templateName, path: spec.path)
    }

    /// Checks a plugin action's written arguments against the schema the plugin declared:
    /// required and unknown names, and the JSON types of literal (non-template) values.
    private func checkPluginArguments(_ spec: ActionSpec, schema: Value) {
        let name = spec.connector.value
        let pairs = spec.arguments.pairs ?? []
        let written = Set(pairs.map(\.name))
        let properties = schema["properties"].objectValue ?? [:]
        for required in (schema["required"].arrayValue ?? []).compactMap(\.stringValue) where !written.contains(required) {
            reader.error("\(name) needs '\(required)' (the plugin's argument schema requires it)", at: spec.connector.location, code: "missing-argument")
        }
        if schema["additionalProperties"].boolValue == false {
            for pair in pairs where properties[pair.name] == nil {
                reader.error("\(name) takes no argument '\(pair.name)'\(Suggest.hint(for: pair.name, in: properties.keys.sorted()))",
                             at: pair.key.location, code: "unknown-argument")
            }
        }
        for pair in pairs {
            guard let property = properties[pair.name], case .scalar = pair.value.kind else { continue }
            let literal = pair.value.toValue()
            if let text = literal.stringValue, text.contains("{{") { continue }
            for violation in JSONSchema(property).validate(literal) {
                reader.error("\(name) argument '\(pair.name)': \(violation.message)", at: pair.value.location, code: "invalid-argument")
            }
        }
    }

    private func builtIn(_ spec: ActionSpec, contract: ConnectorContract, guarded: Set<String>) -> (ArgumentTree, String?)? {
        let name = contract.name
        guard let pairs = spec.arguments.pairs else {
            reader.error("\(name) takes a mapping of arguments, such as {\(contract.required[0].map { "\($0): …" }.joined(separator: ", "))}",
                         at: spec.arguments.location, code: "invalid-value")
            return nil
        }
        let present = Set(pairs.map(\.name))
        var entries: [(String, ArgumentTree)] = []
        var templateName: String?
        for pair in pairs {
            guard let kind = contract.arguments[pair.name] else {
                reader.error("\(name) has no argument '\(pair.name)'\(Suggest.hint(for: pair.name, in: contract.arguments.keys.sorted()))",
                             at: pair.key.location, code: "unknown-argument")
                continue
            }
            switch kind {
            case .template:
                if let tree = templateString(pair.value, what: "\(name).\(pair.name)", guarded: guarded) { entries.append((pair.name, tree)) }
            case .templatedValue, .signing:
                entries.append((pair.name, templated(pair.value, guarded: guarded)))
            case .duration:
                if let d = reader.duration(pair.value, "\(name).\(pair.name)") { entries.append((pair.name, .duration(d.value))) }
            case .templateName:
                if let template = reader.string(pair.value, "template") {
                    templateName = template.value
                    TemplateUse(project: project, scope: scope, reader: reader).check(template, guarded: guarded)
                    entries.append((pair.name, .literal(.string(template.value))))
                }
            case .eventType:
                if let type = reader.string(pair.value, "emit.type") {
                    EventTypes.check(type, reader: reader)
                    entries.append((pair.name, .literal(.string(type.value))))
                }
            case .expressions:
                if let members = pair.value.pairs {
                    var out: [(String, ArgumentTree)] = []
                    for member in members {
                        if let source = reader.expression(member.value, "\(name).\(pair.name).\(member.name)"),
                           let compiled = exprs.compile(source, as: .value) {
                            out.append((member.name, .expression(compiled)))
                        }
                    }
                    entries.append((pair.name, .object(out)))
                } else {
                    reader.error("\(name).\(pair.name) must map names to expressions", at: pair.value.location, code: "invalid-value")
                }
            }
        }
        let satisfied = contract.required.contains { $0.allSatisfy(present.contains) }
        if !satisfied {
            let options = contract.required.map { $0.joined(separator: " + ") }.joined(separator: " or ")
            reader.error("\(name) needs \(options)", at: spec.connector.location, code: "missing-argument")
        }
        if name == "email", present.contains("template"), present.contains("subject") || present.contains("text") {
            reader.error("email takes either template or subject + text, not both", at: spec.connector.location, code: "invalid-value")
        }
        return (.object(entries), templateName)
    }

    /// A string argument compiled as a template; numbers and booleans stay literals.
    private func templateString(_ node: Node, what: String, guarded: Set<String>) -> ArgumentTree? {
        guard let text = node.scalar else {
            reader.error("\(what) must be text", at: node.location, code: "invalid-value")
            return nil
        }
        if node.style == .plain, let literal = Node.coreScalar(text), !literal.isNull { return .literal(literal) }
        let quoted = node.style == .singleQuoted || node.style == .doubleQuoted
        let block = node.style == .literal || node.style == .folded
        let source = TemplateText(source: text, location: node.location.advanced(by: quoted ? 1 : 0), isBlock: block)
        return TemplateUse(project: project, scope: scope, reader: reader).compileInline(source, guarded: guarded).map(ArgumentTree.template)
    }

    /// Any value: strings are templates, the rest is kept as written.
    private func templated(_ node: Node, guarded: Set<String>) -> ArgumentTree {
        switch node.kind {
        case .scalar:
            return templateString(node, what: "argument", guarded: guarded) ?? .literal(.null)
        case .sequence(let items):
            return .list(items.map { templated($0, guarded: guarded) })
        case .mapping(let pairs):
            return .object(pairs.map { ($0.name, templated($0.value, guarded: guarded)) })
        }
    }
}
