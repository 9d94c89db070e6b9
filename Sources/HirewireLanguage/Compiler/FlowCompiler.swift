/// Compiles a flow into a ``Machine``: resolves states, type-checks expressions, parses
/// templates and checks every action, collecting all diagnostics rather than stopping early.
struct FlowCompiler {
    let flow: FlowSpec
    let node: Node?
    let project: ProjectContext
    let reader: NodeReader

    func compile() -> Machine? {
        StateGraphChecks(flow: flow, reader: reader).run()
        checkEventTypes()
        let scope = FlowScope.make(flow: flow, project: project, reader: reader)
        let exprs = ExpressionCompiler(scope: scope, reader: reader)
        let actions = ActionCompiler(flow: flow, project: project, scope: scope, exprs: exprs, reader: reader)

        let key = flow.start.key.text.isEmpty ? nil : exprs.compile(flow.start.key, as: .key)
        let startIf = flow.start.condition.flatMap { exprs.compile($0, as: .startCondition) }
        let lets = flow.lets.compactMap { spec -> MachineLet? in
            exprs.compile(spec.expression, as: .value).map { MachineLet(name: spec.name.value, expression: $0) }
        }
        let require = flow.require.compactMap { exprs.path($0) }
        let stateIndex = Dictionary(flow.states.enumerated().map { ($0.element.name.value, $0.offset) }, uniquingKeysWith: { a, _ in a })
        func target(_ name: Located<String>?) -> Int? { name.flatMap { stateIndex[$0.value] } }

        let exits = flow.exits.map { exit in
            let condition = exit.condition.flatMap { exprs.compile($0, as: .condition) }
            return MachineExit(on: exit.on.map(\.value), condition: condition,
                               actions: actions.compile(exit.actions, state: nil, stateIndex: stateIndex, guardedBy: condition),
                               outcome: exit.outcome?.value ?? "exited")
        }
        let timers = { (specs: [TimerSpec], state: String?) -> [MachineTimer] in
            specs.compactMap { spec in
                var when: MachineTimerWhen
                switch spec.when {
                case .delay(let d): when = .delay(d.value)
                case .between(let lo, let hi): when = .between(min: lo.value, max: hi.value)
                case .at(let e):
                    guard let compiled = exprs.compile(e, as: .timestamp) else { return nil }
                    when = .at(compiled)
                }
                if let calendar = spec.calendar, !project.calendarNames.contains(calendar.value) {
                    reader.error("unknown calendar '\(calendar.value)'\(Suggest.hint(for: calendar.value, in: project.calendarNames))",
                                 at: calendar.location, code: "unknown-calendar")
                }
                let condition = spec.condition.flatMap { exprs.compile($0, as: .condition) }
                return MachineTimer(when: when, label: spec.label, calendar: spec.calendar?.value, condition: condition,
                                    actions: actions.compile(spec.actions, state: state, stateIndex: stateIndex, guardedBy: condition),
                                    target: target(spec.target), late: spec.late?.value, path: spec.path)
            }
        }
        let states = flow.states.map { state in
            var handlers: [String: [MachineTransition]] = [:]
            for handler in state.on {
                handlers[handler.event.value, default: []] += handler.transitions.map { t in
                    let condition = t.condition.flatMap { exprs.compile($0, as: .condition) }
                    return MachineTransition(event: handler.event.value, target: target(t.target), condition: condition,
                                             actions: actions.compile(t.actions, state: state.name.value, stateIndex: stateIndex, guardedBy: condition))
                }
            }
            let choices = state.choose.compactMap { c -> MachineChoice? in
                guard let t = target(c.target) else { return nil }
                return MachineChoice(condition: c.condition.flatMap { exprs.compile($0, as: .condition) }, target: t)
            }
            return MachineState(name: state.name.value,
                                actions: actions.compile(state.actions, state: state.name.value, stateIndex: stateIndex),
                                handlers: handlers, handlerOrder: state.on.map(\.event.value),
                                timers: timers(state.after, state.name.value), choices: choices,
                                outcome: state.end?.value, location: state.name.location)
        }
        let policy = compilePolicy(exprs: exprs, actions: actions, stateIndex: stateIndex)
        let after = timers(flow.after, nil)

        guard !reader.diagnostics.hasErrors, let key, !states.isEmpty else { return nil }
        let initial = flow.initial.flatMap { stateIndex[$0.value] } ?? 0
        var migrate: [String: Int] = [:]
        for m in flow.migrate { if let t = stateIndex[m.to.value] { migrate[m.from.value] = t } }
        return Machine(id: flow.id.value, version: FlowVersion.of(node), file: flow.file, description: flow.description,
                       start: MachineStart(on: flow.start.on.map(\.value), key: key, condition: startIf, reentry: flow.start.reentry),
                       timeout: flow.timeout?.value ?? 90 * 86400, lets: lets, require: require, exits: exits,
                       policy: policy, after: after, initial: initial, states: states, stateIndex: stateIndex, migrate: migrate)
    }

    private func compilePolicy(exprs: ExpressionCompiler, actions: ActionCompiler, stateIndex: [String: Int]) -> MachinePolicy {
        // Checked as they run: over an event a `require` refused (its fields may be missing).
        let invalidScope = actions.scope.onInvalidScope
        let invalidActions = ActionCompiler(flow: flow, project: project, scope: invalidScope,
                                            exprs: ExpressionCompiler(scope: invalidScope, reader: reader), reader: reader)
        var policy = MachinePolicy(quietHours: nil, maxMessages: nil,
                                   onInvalid: invalidActions.compile(flow.policy.onInvalid, state: nil, stateIndex: stateIndex))
        if let q = flow.policy.quietHours {
            let from = LocalTimeSyntax.minutes(q.from, reader: reader)
            let to = LocalTimeSyntax.minutes(q.to, reader: reader)
            // As in a calendar: a bare zone name is a name, and a quoted one must be a zone.
            let zone = q.timezone.flatMap { source in ZoneSource.bare(source) ?? exprs.compile(source, as: .value) }
            if let zone { ZoneSource.checkLiteral(zone, reader: reader) }
            if let from, let to {
                policy.quietHours = MachineQuietHours(fromMinute: from, toMinute: to, timezone: zone, from: q.from.value, to: q.to.value)
            }
        }
        if let m = flow.policy.maxMessages {
            policy.maxMessages = MachineMaxMessages(count: m.count.value, per: m.per.value,
                                                    instead: actions.compile(m.instead, state: nil, stateIndex: stateIndex))
        }
        return policy
    }

    private func checkEventTypes() {
        var names: [Located<String>] = flow.start.on
        for exit in flow.exits { names += exit.on }
        for state in flow.states { names += state.on.map(\.event) }
        for name in names { EventTypes.check(name, reader: reader) }
    }
}

/// Event type names: the v1 catalog or custom `x.` types.
enum EventTypes {
    static func check(_ name: Located<String>, reader: NodeReader) {
        if let problem = EventCatalog.v1.problem(withType: name.value) {
            reader.error(problem, at: name.location, code: "unknown-event")
        }
    }
}

extension EventCatalog {
    /// Why `type` is not an event type flows can use (with a did-you-mean), or nil when it is:
    /// a catalog type, or a custom one starting with `x.`.
    public func problem(withType type: String) -> String? {
        if type.hasPrefix("x.") ? type.count > 2 : isKnown(type) { return nil }
        return "unknown event type '\(type)'\(Suggest.hint(for: type, in: typeNames)) (custom types start with 'x.')"
    }
}

/// A flow's version: a hash of its normalized content, so reformatting, comments and key order
/// do not make a new version — except where the order means something: with no `initial:`, the
/// first state is the initial one, and a `let` name sees only the names before it.
public enum FlowVersion {
    /// `v` followed by 12 hex digits.
    public static func of(_ node: Node?) -> String {
        var value = node?.toValue() ?? .null
        if case .object(var top) = value, let node {
            if top["initial"] == nil, let first = node["states"]?.pairs?.first?.name { top["initial"] = .string(first) }
            if let lets = node["let"]?.pairs, lets.count > 1 {
                top["let"] = .array(lets.map { .object([$0.name: $0.value.toValue()]) })
            }
            value = .object(top)
        }
        let text = value.jsonString()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return "v" + String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }
}
