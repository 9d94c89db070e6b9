/// Checks of a flow's state graph that need no expressions: targets exist, choices end in
/// `else`, final states stay final, every state is reachable and can leave.
struct StateGraphChecks {
    let flow: FlowSpec
    let reader: NodeReader

    private var names: [String] { flow.states.map(\.name.value) }

    /// Every state target written in the flow, with the name of the state it leaves (nil for
    /// flow-level ones such as `initial` and journey-wide timers).
    private func edges() -> [(from: String?, target: Located<String>)] {
        var out: [(String?, Located<String>)] = []
        if let initial = flow.initial { out.append((nil, initial)) }
        for timer in flow.after { if let t = timer.target { out.append((nil, t)) } }
        for action in allActions(flow) { if case .goto(let t) = action.spec.onError { out.append((action.state, t)) } }
        for migration in flow.migrate { out.append((nil, migration.to)) }
        for state in flow.states {
            let from = state.name.value
            for handler in state.on { for t in handler.transitions { if let g = t.target { out.append((from, g)) } } }
            for timer in state.after { if let g = timer.target { out.append((from, g)) } }
            for choice in state.choose { out.append((from, choice.target)) }
        }
        return out
    }

    func run() {
        let known = Set(names)
        for (_, target) in edges() where !known.contains(target.value) {
            reader.error("unknown state '\(target.value)'\(Suggest.hint(for: target.value, in: names))", at: target.location, code: "unknown-state")
        }
        // A migrated journey is placed in its new state without running anything there, so a
        // `choose` (which decides on entry) cannot be a migrate target; a final state can (the
        // journey ends with its outcome).
        for migration in flow.migrate {
            if let state = flow.states.first(where: { $0.name.value == migration.to.value }), state.chooseLocation != nil {
                reader.error("migrate target '\(migration.to.value)' is a choose state; map to the state its branches lead to",
                             at: migration.to.location, code: "migrate-to-choose")
            }
        }
        // State names are mapping keys, so the loader already rejects duplicates.
        for state in flow.states { checkShape(state) }
        checkReachability(known: known)
    }

    private func checkShape(_ state: StateSpec) {
        let name = state.name.value
        if let end = state.end {
            if !state.on.isEmpty || !state.after.isEmpty || !state.choose.isEmpty {
                reader.error("final state '\(name)' (end: \(end.value)) cannot have on, after or choose", at: state.name.location, code: "final-state-transitions")
            }
            for action in state.actions {
                if case .goto(let target) = action.onError {
                    reader.error("on_error: goto is not allowed in final state '\(name)'", at: target.location, code: "on-error-in-final-state")
                }
            }
            return
        }
        if let at = state.chooseLocation {
            if !state.on.isEmpty || !state.after.isEmpty {
                reader.error("state '\(name)' with choose cannot also have on or after", at: at, code: "choose-with-transitions")
            }
            let elses = state.choose.filter(\.isElse)
            if elses.isEmpty {
                reader.error("choose in state '\(name)' needs a final 'else: STATE' branch", at: at, code: "choose-without-else")
            } else if let last = state.choose.last, !last.isElse, let misplaced = elses.first {
                reader.error("'else' must be the last branch of choose", at: misplaced.location, code: "choose-else-not-last")
            }
            return
        }
        let canLeave = state.on.contains { $0.transitions.contains { $0.target != nil } } || state.after.contains { $0.target != nil }
        if !canLeave {
            reader.error("state '\(name)' is not final (no end) and has no way out: add an on/after with goto, a choose, or end",
                         at: state.name.location, code: "no-way-out")
        }
    }

    private func checkReachability(known: Set<String>) {
        guard let first = flow.states.first else { return }
        let start = flow.initial?.value ?? first.name.value
        guard known.contains(start) else { return }
        var adjacency: [String: [String]] = [:]
        var global: [String] = []
        for (from, target) in edges() {
            if let from { adjacency[from, default: []].append(target.value) } else { global.append(target.value) }
        }
        var reached: Set<String> = [start]
        var queue = [start] + global.filter { $0 != flow.initial?.value }
        reached.formUnion(queue)
        // Migration targets are reached by moved journeys, not by transitions.
        while let next = queue.popLast() {
            for target in adjacency[next] ?? [] where !reached.contains(target) {
                reached.insert(target)
                queue.append(target)
            }
        }
        for state in flow.states where !reached.contains(state.name.value) {
            reader.warning("state '\(state.name.value)' is unreachable from '\(start)'", at: state.name.location, code: "unreachable-state")
        }
    }
}

/// An action together with the state whose entry (or transition) queues it.
struct PlacedAction {
    var spec: ActionSpec
    /// The state the action belongs to, nil for flow-level actions (exits, journey timers, policy).
    var state: String?
}

/// Every action of a flow, wherever it is written.
func allActions(_ flow: FlowSpec) -> [PlacedAction] {
    var out: [PlacedAction] = []
    func add(_ actions: [ActionSpec], _ state: String?) { out += actions.map { PlacedAction(spec: $0, state: state) } }
    for exit in flow.exits { add(exit.actions, nil) }
    for timer in flow.after { add(timer.actions, nil) }
    add(flow.policy.onInvalid, nil)
    if let m = flow.policy.maxMessages { add(m.instead, nil) }
    for state in flow.states {
        add(state.actions, state.name.value)
        for handler in state.on { for t in handler.transitions { add(t.actions, state.name.value) } }
        for timer in state.after { add(timer.actions, state.name.value) }
    }
    return out
}
