/// Draws a compiled machine as a Mermaid state diagram (renders in GitHub pull requests) or
/// as Graphviz DOT.
public enum GraphFormat: String, Sendable, CaseIterable {
    case mermaid, dot
}

/// Renders machines as diagrams.
public enum GraphRenderer {
    /// The diagram text for `machine`; with `previous` (an older version of the same flow),
    /// added elements are marked green, removed ones red and changed ones amber.
    public static func render(_ machine: Machine, format: GraphFormat, previous: Machine? = nil) -> String {
        let marks = previous.map { GraphMarks(old: $0, new: machine) }
        switch format {
        case .mermaid: return mermaid(machine, marks: marks)
        case .dot: return dot(machine, marks: marks)
        }
    }

    /// One labelled edge of the diagram.
    struct Edge {
        var from: String
        var to: String
        var label: String
        var key: String { "\(from)\u{0}\(to)\u{0}\(label)" }
    }

    static func edges(_ machine: Machine) -> [Edge] {
        var out: [Edge] = []
        for state in machine.states {
            for event in state.handlerOrder {
                for t in state.handlers[event] ?? [] {
                    var label = event
                    if let c = t.condition { label += " [\(c.source.text)]" }
                    if !t.actions.isEmpty, t.target == nil { label += " / " + actionSummary(t.actions) }
                    out.append(Edge(from: state.name, to: t.target.map { machine.states[$0].name } ?? state.name, label: label))
                }
            }
            for timer in state.timers {
                var label = "after " + timerSummary(timer)
                if let c = timer.condition { label += " [\(c.source.text)]" }
                if !timer.actions.isEmpty, timer.target == nil { label += " / " + actionSummary(timer.actions) }
                out.append(Edge(from: state.name, to: timer.target.map { machine.states[$0].name } ?? state.name, label: label))
            }
            for choice in state.choices {
                out.append(Edge(from: state.name, to: machine.states[choice.target].name,
                                label: choice.condition.map { "[\($0.source.text)]" } ?? "[else]"))
            }
            for action in state.actions {
                if let target = action.onErrorTarget {
                    out.append(Edge(from: state.name, to: machine.states[target].name, label: "\(action.connector) failed"))
                }
            }
        }
        return out
    }

    /// `between 36h and 48h (business-hours)`, `24h`, `at offer.expires_at - 24h`.
    public static func timerSummary(_ timer: MachineTimer) -> String {
        var text = timer.label
        if let calendar = timer.calendar { text += " (\(calendar))" }
        if let late = timer.late { text += " (late ≤ \(DurationFormat.format(late)))" }
        return text
    }

    /// What starts a journey: its events, and `start.if` when there is one.
    static func startLabel(_ machine: Machine) -> String {
        machine.start.on.joined(separator: ", ") + (machine.start.condition.map { " [\($0.source.text)]" } ?? "")
    }

    /// What the flow does outside its states: journey-wide timers, the timeout, exits.
    static func journeyNotes(_ machine: Machine) -> [String] {
        var notes: [String] = []
        for timer in machine.after {
            var text = "journey-wide after \(timerSummary(timer))"
            if let c = timer.condition { text += " [\(c.source.text)]" }
            if !timer.actions.isEmpty { text += " / " + actionSummary(timer.actions) }
            notes.append(text)
        }
        if machine.timeout > 0 { notes.append("timeout \(DurationFormat.format(machine.timeout)) → timed_out") }
        for exit in machine.exits {
            notes.append("exit on \(exit.on.joined(separator: ", "))" + (exit.condition.map { " [\($0.source.text)]" } ?? "") + " → \(exit.outcome)")
        }
        return notes
    }

    /// Mermaid ids for every state name: letters, digits and `_` only, and distinct (`a-b` and
    /// `a_b` both made `a_b`, and an edge between them drew as a loop).
    static func mermaidIds(_ names: [String]) -> [String: String] {
        let plain = { (c: Character) in c.isLetter || c.isNumber || c == "_" }
        // A name that is an id already keeps it; the others are made into ids around them.
        var ids: [String: String] = [:]
        for name in names where name.allSatisfy(plain) { ids[name] = name }
        var taken = Set(ids.values)
        for name in names where ids[name] == nil {
            let base = String(name.map { plain($0) ? $0 : "_" })
            var id = base
            var n = 2
            while taken.contains(id) {
                id = "\(base)_\(n)"
                n += 1
            }
            taken.insert(id)
            ids[name] = id
        }
        return ids
    }

    /// `email offer-next-steps, slack` — what a list of actions does, briefly.
    public static func actionSummary(_ actions: [MachineAction]) -> String {
        actions.map { a in a.templateName.map { "\(a.connector) \($0)" } ?? a.connector }.joined(separator: ", ")
    }

    private static func mermaidText(_ text: String) -> String {
        // Mermaid labels: ':' and quotes break the syntax; '#' starts an entity.
        text.replacingOccurrences(of: "\"", with: "#34;").replacingOccurrences(of: ":", with: "#58;")
    }

    static func mermaid(_ machine: Machine, marks: GraphMarks?) -> String {
        var lines = ["stateDiagram-v2", "    %% \(machine.id) \(machine.version) (\(machine.file))"]
        let ids = mermaidIds(machine.states.map(\.name) + (marks?.removedStates ?? []))
        func mermaidId(_ name: String) -> String { ids[name] ?? name }
        let start = machine.states[machine.initial].name
        lines.append("    [*] --> \(mermaidId(start)): \(mermaidText(startLabel(machine)))")
        for state in machine.states {
            let id = mermaidId(state.name)
            if id != state.name { lines.append("    state \"\(state.name)\" as \(id)") }
            if !state.actions.isEmpty {
                lines.append("    \(id): \(mermaidText(state.name)) / \(mermaidText(actionSummary(state.actions)))")
            }
            if !state.choices.isEmpty { lines.append("    note right of \(id): choose") }
        }
        for edge in edges(machine) {
            let mark = marks?.addedEdges.contains(edge.key) == true ? "(+) " : ""
            lines.append("    \(mermaidId(edge.from)) --> \(mermaidId(edge.to)): \(mark)\(mermaidText(edge.label))")
        }
        if let marks {
            for name in marks.removedStates { lines.append("    \(mermaidId(name)): \(mermaidText(name)) (removed)") }
            for edge in marks.removedEdges { lines.append("    \(mermaidId(edge.from)) --> \(mermaidId(edge.to)): (−) \(mermaidText(edge.label))") }
            lines.append("    classDef added fill:#dafbe1,stroke:#1a7f37,color:#0b3d1a")
            lines.append("    classDef removed fill:#ffebe9,stroke:#cf222e,color:#5c0a0a,stroke-dasharray: 5 5")
            lines.append("    classDef changed fill:#fff8c5,stroke:#9a6700,color:#3d2a00")
            for (cls, names) in [("added", marks.addedStates), ("removed", marks.removedStates), ("changed", marks.changedStates)] where !names.isEmpty {
                lines.append("    class \(names.map(mermaidId).joined(separator: ",")) \(cls)")
            }
        }
        for state in machine.states where state.isFinal {
            lines.append("    \(mermaidId(state.name)) --> [*]: \(mermaidText(state.outcome ?? ""))")
        }
        for note in journeyNotes(machine) { lines.append("    note right of \(mermaidId(start)): \(mermaidText(note))") }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func dotText(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    static func dot(_ machine: Machine, marks: GraphMarks?) -> String {
        var lines = ["digraph \(dotText(machine.id)) {", "  rankdir=LR;", "  node [shape=box, style=rounded];",
                     "  __start [shape=point];"]
        for state in machine.states {
            var label = state.name
            if !state.actions.isEmpty { label += "\n/ " + actionSummary(state.actions) }
            let shape = state.isFinal ? ", peripheries=2" : (state.choices.isEmpty ? "" : ", shape=diamond")
            lines.append("  \(dotText(state.name)) [label=\(dotText(label))\(shape)\(marks?.dotColor(state: state.name) ?? "")];")
        }
        for name in marks?.removedStates ?? [] {
            lines.append("  \(dotText(name)) [label=\(dotText(name + "\n(removed)")), color=red, fontcolor=red, style=\"rounded,dashed\"];")
        }
        lines.append("  __start -> \(dotText(machine.states[machine.initial].name)) [label=\(dotText(startLabel(machine)))];")
        // A final state's outcome, as Mermaid's `--> [*]: outcome`.
        for state in machine.states where state.isFinal {
            let end = dotText("__end_" + state.name)
            lines.append("  \(end) [shape=doublecircle, label=\"\", width=0.15];")
            lines.append("  \(dotText(state.name)) -> \(end) [label=\(dotText(state.outcome ?? ""))];")
        }
        let notes = journeyNotes(machine)
        if !notes.isEmpty {
            lines.append("  __journey [shape=note, label=\(dotText(notes.joined(separator: "\n")))];")
            lines.append("  __journey -> __start [style=dotted, arrowhead=none];")
        }
        for edge in edges(machine) {
            let color = marks?.addedEdges.contains(edge.key) == true ? ", color=green, fontcolor=green" : ""
            lines.append("  \(dotText(edge.from)) -> \(dotText(edge.to)) [label=\(dotText(edge.label))\(color)];")
        }
        for edge in marks?.removedEdges ?? [] {
            lines.append("  \(dotText(edge.from)) -> \(dotText(edge.to)) [label=\(dotText(edge.label)), color=red, fontcolor=red, style=dashed];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What changed between two versions, for marking a graph.
struct GraphMarks {
    var addedStates: [String] = []
    var removedStates: [String] = []
    var changedStates: [String] = []
    var addedEdges: Set<String> = []
    var removedEdges: [GraphRenderer.Edge] = []

    init(old: Machine, new: Machine) {
        let diff = SemanticDiff.diff(old: old, new: new, oldProject: nil, newProject: nil)
        let renames = diff.renames
        let oldOutline = Outline(old), newOutline = Outline(new)
        let oldNames = Set(old.states.map { renames[$0.name] ?? $0.name })
        addedStates = new.states.map(\.name).filter { !oldNames.contains($0) }
        removedStates = old.states.map(\.name).filter { new.stateIndex[renames[$0] ?? $0] == nil }
        changedStates = old.states.compactMap { state in
            let name = renames[state.name] ?? state.name
            guard let after = newOutline.states[name], let before = oldOutline.states[state.name]?.renaming(renames) else { return nil }
            return before != after || renames[state.name] != nil ? name : nil
        }
        let rename = { (e: GraphRenderer.Edge) in
            GraphRenderer.Edge(from: renames[e.from] ?? e.from, to: renames[e.to] ?? e.to, label: e.label)
        }
        let oldEdges = GraphRenderer.edges(old).map(rename)
        let newEdges = GraphRenderer.edges(new)
        let oldKeys = Set(oldEdges.map(\.key)), newKeys = Set(newEdges.map(\.key))
        addedEdges = newKeys.subtracting(oldKeys)
        removedEdges = oldEdges.filter { !newKeys.contains($0.key) }
    }

    func dotColor(state: String) -> String {
        if addedStates.contains(state) { return ", color=green, fontcolor=green" }
        if changedStates.contains(state) { return ", color=orange, fontcolor=orange" }
        return ""
    }
}
