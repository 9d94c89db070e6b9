/// A machine described by comparable text, element by element: what the semantic diff compares.
/// Built from the compiled machine, so key order, formatting and comments never show up.
struct Outline: Sendable {
    /// Flow-level settings in a fixed order: `start.on`, `start.key`, `let name`, `exit[0]`, ….
    var settings: [(key: String, value: Written)]
    var states: [String: StateOutline]
    /// State names in the order written.
    var order: [String]
    var journeyTimers: [TimerOutline]
    /// Templates and calendars the flow uses (their changes are reported under the flow).
    var templates: Set<String>
    var calendars: Set<String>
    var file: String
}

/// One state, comparable.
struct StateOutline: Sendable, Equatable {
    var actions: [ActionOutline]
    var transitions: [TransitionOutline]
    var timers: [TimerOutline]
    var choices: [ChoiceOutline]
    var outcome: String?
    var line: Int

    static func == (a: StateOutline, b: StateOutline) -> Bool {
        a.actions == b.actions && a.transitions == b.transitions && a.timers == b.timers && a.choices == b.choices && a.outcome == b.outcome
    }

    /// The same state with its targets renamed (`old name → new name`).
    func renaming(_ map: [String: String]) -> StateOutline {
        var copy = self
        copy.transitions = transitions.map { var t = $0; t.target = t.target.map { map[$0] ?? $0 }; return t }
        copy.timers = timers.map { var t = $0; t.target = t.target.map { map[$0] ?? $0 }; return t }
        copy.choices = choices.map { var c = $0; c.target = map[c.target] ?? c.target; return c }
        copy.actions = actions.map { var a = $0; a.onError = a.onError.map { map[$0] ?? $0 }; return a }
        return copy
    }

    /// A short description for added and removed states.
    var summary: String {
        var parts: [String] = []
        if !actions.isEmpty { parts.append("do: " + actions.map(\.summary).joined(separator: ", ")) }
        for t in transitions { parts.append("on \(t.event)\(t.condition.map { " [\($0)]" } ?? "") → \(t.target ?? "(stay)")") }
        for t in timers { parts.append("after \(t.label)\(t.target.map { " → \($0)" } ?? "")") }
        if !choices.isEmpty { parts.append("choose " + choices.map { "\($0.condition ?? "else") → \($0.target)" }.joined(separator: "; ")) }
        if let outcome { parts.append("end: \(outcome)") }
        return parts.joined(separator: "; ")
    }
}

struct ActionOutline: Sendable, Equatable {
    var connector: String
    /// Argument → canonical text (templates as written, values as JSON).
    var arguments: [String: String]
    var condition: Written?
    var audience: String
    var exempt: Bool
    var retry: String?
    var onError: String?

    /// `email offer-next-steps` or `slack`.
    var summary: String { arguments["template"].map { "\(connector) \($0)" } ?? connector }
}

struct TransitionOutline: Sendable, Equatable {
    var event: String
    var target: String?
    var condition: Written?
    var actions: [ActionOutline]
}

struct TimerOutline: Sendable, Equatable {
    var label: Written
    var calendar: String?
    var condition: Written?
    var target: String?
    var actions: [ActionOutline]
    var late: String?

    /// `between 36h and 48h (calendar business-hours)`
    var describe: String { label.text + (calendar.map { " (calendar \($0))" } ?? "") }
}

struct ChoiceOutline: Sendable, Equatable {
    var condition: Written?
    var target: String
}

extension Outline {
    init(_ machine: Machine) {
        func actions(_ list: [MachineAction]) -> [ActionOutline] {
            list.map { a in
                var args: [String: String] = [:]
                if case .object(let entries) = a.arguments {
                    for (k, v) in entries { args[k] = Outline.text(v) }
                }
                let retry = (a.retryAttempts != nil || a.retryBackoff != nil)
                    ? "\(a.retryAttempts.map(String.init) ?? "-") attempts, backoff \(a.retryBackoff.map(DurationFormat.format) ?? "-")" : nil
                return ActionOutline(connector: a.connector, arguments: args, condition: a.condition.map(Written.init),
                                     audience: a.audience.rawValue, exempt: a.exempt, retry: retry,
                                     onError: a.onErrorTarget.map { machine.states[$0].name })
            }
        }
        func timers(_ list: [MachineTimer]) -> [TimerOutline] {
            list.map { t in
                TimerOutline(label: Written(t.label, key: Outline.when(t.when)), calendar: t.calendar, condition: t.condition.map(Written.init),
                             target: t.target.map { machine.states[$0].name }, actions: actions(t.actions), late: t.late.map(DurationFormat.format))
            }
        }
        var settings: [(String, Written)] = [
            ("start.on", Written(machine.start.on.joined(separator: ", "))),
            ("start.key", Written(machine.start.key)),
            ("start.if", machine.start.condition.map(Written.init) ?? "(none)"),
            ("start.reentry", Written(machine.start.reentry.rawValue)),
            ("timeout", Written(DurationFormat.format(machine.timeout))),
            // A set: its order means nothing.
            ("require", Written(machine.require.map(\.dotted).joined(separator: ", "),
                                key: machine.require.map(\.dotted).sorted().joined(separator: ", "))),
            ("initial", Written(machine.states[machine.initial].name)),
        ]
        for binding in machine.lets { settings.append(("let \(binding.name)", Written(binding.expression))) }
        for (i, exit) in machine.exits.enumerated() {
            var text = "on \(exit.on.joined(separator: ", "))", key = text
            if let c = exit.condition {
                text += " if \(c.source.text)"
                key += " if \(c.canonicalText)"
            }
            var rest = " → \(exit.outcome)"
            if !exit.actions.isEmpty { rest += "; do: " + actions(exit.actions).map(\.summary).joined(separator: ", ") }
            settings.append(("exit[\(i)]", Written(text + rest, key: key + rest)))
        }
        if let q = machine.policy.quietHours {
            let span = "\(q.from)-\(q.to)"
            settings.append(("policy.quiet_hours", Written(span + (q.timezone.map { " in \($0.source.text)" } ?? ""),
                                                           key: span + (q.timezone.map { " in \($0.canonicalText)" } ?? ""))))
        }
        if let m = machine.policy.maxMessages {
            let instead = actions(m.instead).map(\.summary).joined(separator: ", ")
            settings.append(("policy.max_messages", Written("\(m.count) per \(DurationFormat.format(m.per)); instead: " + instead)))
        }
        if !machine.policy.onInvalid.isEmpty {
            settings.append(("policy.on_invalid", Written(actions(machine.policy.onInvalid).map(\.summary).joined(separator: ", "))))
        }
        var states: [String: StateOutline] = [:]
        for state in machine.states {
            var transitions: [TransitionOutline] = []
            for event in state.handlerOrder {
                for t in state.handlers[event] ?? [] {
                    transitions.append(TransitionOutline(event: event, target: t.target.map { machine.states[$0].name },
                                                         condition: t.condition.map(Written.init), actions: actions(t.actions)))
                }
            }
            states[state.name] = StateOutline(actions: actions(state.actions), transitions: transitions, timers: timers(state.timers),
                                              choices: state.choices.map { ChoiceOutline(condition: $0.condition.map(Written.init), target: machine.states[$0.target].name) },
                                              outcome: state.outcome, line: state.location.line)
        }
        var calendars = Set(machine.after.compactMap(\.calendar))
        for state in machine.states { calendars.formUnion(state.timers.compactMap(\.calendar)) }
        self.init(settings: settings, states: states, order: machine.states.map(\.name), journeyTimers: timers(machine.after),
                  templates: Set(machine.allActions.compactMap(\.templateName)), calendars: calendars, file: machine.file)
    }

    /// A timer's timing written one way (`between [36h, 48h]` and `[1d12h, 2d]` are the same).
    static func when(_ when: MachineTimerWhen) -> String {
        switch when {
        case .delay(let d): return DurationFormat.format(d)
        case .between(let min, let max): return "between \(DurationFormat.format(min)) and \(DurationFormat.format(max))"
        case .at(let e): return "at " + e.canonicalText
        }
    }

    /// Canonical text of an argument.
    static func text(_ tree: ArgumentTree) -> String {
        switch tree {
        case .template(let t): return t.text.source
        case .literal(let v): return v.stringValue ?? v.jsonString()
        case .expression(let e): return e.canonicalText
        case .duration(let d): return DurationFormat.format(d)
        case .list(let items): return "[" + items.map(text).joined(separator: ", ") + "]"
        case .object(let entries): return "{" + entries.sorted { $0.0 < $1.0 }.map { "\($0.0): \(text($0.1))" }.joined(separator: ", ") + "}"
        }
    }
}

/// Text as the author wrote it, compared by what it means: `a??b` and `a ?? b`, or `between [36h,
/// 48h]` and `between [1d12h, 2d]`, are equal, and a change shows in the words written.
struct Written: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// What is shown.
    let text: String
    /// What is compared.
    let key: String

    init(_ text: String, key: String? = nil) {
        self.text = text
        self.key = key ?? text
    }

    /// An expression: as written, compared in ``ExprPrinter``'s one way of writing it.
    init(_ expression: CompiledExpression) { self.init(expression.source.text, key: expression.canonicalText) }

    init(stringLiteral value: String) { self.init(value) }

    var description: String { text }
    static func == (a: Written, b: Written) -> Bool { a.key == b.key }
    func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
