/// Prints semantic diffs for terminals, pull-request comments and tools.
public enum DiffFormat: String, Sendable, CaseIterable {
    case text, markdown, json

    /// Renders `diffs`; `color` adds ANSI colours to text (only on a terminal).
    public func render(_ diffs: [FlowDiff], color: Bool = false) -> String {
        switch self {
        case .text: return Self.text(diffs, color: color)
        case .markdown: return Self.markdown(diffs)
        case .json: return Self.json(diffs)
        }
    }

    static func versions(_ d: FlowDiff) -> String {
        "\(d.oldVersion ?? "(none)") → \(d.newVersion ?? "(none)")"
    }

    static func place(_ c: FlowChange) -> String {
        guard let file = c.file else { return "" }
        return "  [\(file)\(c.line.map { ":\($0)" } ?? "")]"
    }

    static func text(_ diffs: [FlowDiff], color: Bool) -> String {
        var lines: [String] = []
        for d in diffs where !d.isEmpty {
            lines.append("\(d.flow)  \(versions(d))")
            for c in d.changes {
                let line = "  \(c.op) \(c.text)\(place(c))"
                guard color else { lines.append(line); continue }
                let code = c.op == "+" ? "32" : c.op == "-" ? "31" : c.op == "!" ? "1;33" : "33"
                lines.append("\u{1B}[\(code)m\(line)\u{1B}[0m")
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    static func markdown(_ diffs: [FlowDiff]) -> String {
        let changed = diffs.filter { !$0.isEmpty }
        guard !changed.isEmpty else { return "No semantic changes to flows.\n" }
        var lines = ["### Journey changes", ""]
        for d in changed {
            lines.append("**\(d.flow)** `\(d.oldVersion ?? "new")` → `\(d.newVersion ?? "removed")`")
            lines.append("")
            lines.append("```diff")
            for c in d.changes {
                let mark = c.op == "~" ? "!" : c.op == "!" ? "#" : c.op
                lines.append("\(mark) \(c.text)\(place(c))")
            }
            lines.append("```")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ diffs: [FlowDiff]) -> String {
        let flows: [Value] = diffs.map { d in
            .object([
                "flow": .string(d.flow),
                "old_version": d.oldVersion.map(Value.string) ?? .null,
                "new_version": d.newVersion.map(Value.string) ?? .null,
                "renames": .object(d.renames.mapValues(Value.string)),
                "changes": .array(d.changes.map { c in
                    .object(["op": .string(c.op), "element": .string(c.element), "text": .string(c.text),
                             "file": c.file.map(Value.string) ?? .null, "line": c.line.map { .number(Double($0)) } ?? .null])
                }),
            ])
        }
        return Value.object(["flows": .array(flows), "changed": .bool(diffs.contains { !$0.isEmpty })]).jsonString(pretty: true) + "\n"
    }

    /// A normalized, commented description of one flow, for `git diff` textconv: one line per
    /// element, in a stable order, so a text diff of two versions shows semantic lines.
    public static func textconv(_ machine: Machine) -> String {
        let outline = Outline(machine)
        var lines = ["# hirewire: flow \(machine.id) (semantic summary; the file itself may differ in formatting)"]
        for (key, value) in outline.settings { lines.append("\(key): \(value)") }
        for (i, t) in outline.journeyTimers.enumerated() {
            lines.append("after[\(i)]: \(t.describe)\(t.target.map { " → \($0)" } ?? "")\(t.actions.isEmpty ? "" : "; do: " + t.actions.map(\.summary).joined(separator: ", "))")
        }
        for name in outline.order {
            guard let s = outline.states[name] else { continue }
            lines.append("state \(name):")
            for a in s.actions {
                lines.append("  do \(a.summary)\(a.condition.map { " if \($0)" } ?? "") " + a.arguments.keys.sorted().map { "\($0)=\(a.arguments[$0] ?? "")" }.joined(separator: " "))
            }
            for t in s.transitions { lines.append("  on \(t.event)\(t.condition.map { " [\($0)]" } ?? "") → \(t.target ?? "(stay)")") }
            for t in s.timers { lines.append("  after \(t.describe)\(t.target.map { " → \($0)" } ?? "")") }
            for c in s.choices { lines.append("  choose \(c.condition ?? "else") → \(c.target)") }
            if let outcome = s.outcome { lines.append("  end \(outcome)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
