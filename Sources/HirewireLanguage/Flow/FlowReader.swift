/// Reads a flow file's node tree into a ``FlowSpec``, reporting unknown keys, missing keys and
/// malformed values with their positions.
struct FlowReader {
    let reader: NodeReader
    let file: String

    static let topKeys = ["flow", "description", "start", "timeout", "let", "require", "exit", "policy",
                          "after", "initial", "states", "migrate"]
    static let stateKeys = ["do", "on", "after", "choose", "end", "description"]
    static let timerKeys = ["delay", "between", "at", "calendar", "if", "do", "goto", "late"]
    static let actionSiblings = ["if", "id", "retry", "on_error", "audience", "exempt"]

    func read(_ root: Node) -> FlowSpec? {
        guard let top = reader.mapping(root, "a flow", allowed: Self.topKeys) else { return nil }
        let rootAt = root.location
        var id = Located("", at: rootAt)
        if let pair = top["flow"], let name = reader.string(pair.value, "flow id") {
            if name.value.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) == nil {
                reader.error("flow id '\(name.value)' must use lower-case letters, digits and '-'", at: name.location, code: "invalid-value")
            }
            id = name
        } else if top["flow"] == nil {
            reader.missing("flow", in: "a flow", at: rootAt)
        }
        let description = top["description"].flatMap { reader.string($0.value, "description")?.value }
        var start = StartSpec(on: [], key: ExpressionSource("", at: rootAt), condition: nil, reentry: .ignore, location: rootAt)
        if let pair = top["start"] {
            start = readStart(pair) ?? start
        } else {
            reader.missing("start", in: "a flow", at: rootAt)
        }
        let timeout = top["timeout"].flatMap { reader.duration($0.value, "timeout") }
        var lets: [LetSpec] = []
        if let pair = top["let"], let entries = reader.mapping(pair.value, "let", allowed: pair.value.pairs?.map(\.name) ?? []) {
            _ = entries
            for entry in pair.value.pairs ?? [] {
                if let expression = reader.expression(entry.value, "let '\(entry.name)'") {
                    lets.append(LetSpec(name: Located(entry.name, at: entry.key.location), expression: expression))
                }
            }
        }
        var require: [ExpressionSource] = []
        if let pair = top["require"] {
            for item in reader.listOrOne(pair.value) {
                if let expression = reader.expression(item, "require entry") { require.append(expression) }
            }
        }
        var exits: [ExitSpec] = []
        if let pair = top["exit"] {
            for (i, item) in reader.listOrOne(pair.value).enumerated() {
                if let rule = readExit(item, path: "exit[\(i)]") { exits.append(rule) }
            }
        }
        let policy = top["policy"].map { readPolicy($0) } ?? PolicySpec()
        let after = top["after"].map { readTimers($0.value, path: "after") } ?? []
        let initial = top["initial"].flatMap { reader.string($0.value, "initial") }
        var states: [StateSpec] = []
        if let pair = top["states"] {
            if let entries = pair.value.pairs {
                if entries.isEmpty { reader.error("a flow needs at least one state", at: pair.value.location, code: "missing-key") }
                for entry in entries {
                    if let state = readState(entry) { states.append(state) }
                }
            } else {
                reader.error("states must be a mapping of state names", at: pair.value.location, code: "invalid-value")
            }
        } else {
            reader.missing("states", in: "a flow", at: rootAt)
        }
        var migrate: [MigrationSpec] = []
        if let pair = top["migrate"] {
            if let entries = pair.value.pairs {
                for entry in entries {
                    if let target = reader.string(entry.value, "migrate target") {
                        migrate.append(MigrationSpec(from: Located(entry.name, at: entry.key.location), to: target))
                    }
                }
            } else {
                reader.error("migrate must map old state names to new ones", at: pair.value.location, code: "invalid-value")
            }
        }
        return FlowSpec(id: id, file: file, description: description, start: start, timeout: timeout, lets: lets,
                        require: require, exits: exits, policy: policy, after: after, initial: initial,
                        states: states, migrate: migrate)
    }

    private func readStart(_ pair: Node.Pair) -> StartSpec? {
        guard let map = reader.mapping(pair.value, "start", allowed: ["on", "key", "if", "reentry"]) else { return nil }
        let at = pair.key.location
        let on = map["on"].map { reader.names($0.value, "start.on") } ?? []
        if map["on"] == nil { reader.missing("on", in: "start", at: at) }
        var key = ExpressionSource("", at: at)
        if let k = map["key"] {
            key = reader.expression(k.value, "start.key") ?? key
        } else {
            reader.missing("key", in: "start", at: at)
        }
        let condition = map["if"].flatMap { reader.expression($0.value, "start.if") }
        let reentry = map["reentry"].flatMap { reader.choice($0.value, "reentry", Reentry.allCases.map(\.rawValue)) }
            .flatMap { Reentry(rawValue: $0.value) } ?? .ignore
        return StartSpec(on: on, key: key, condition: condition, reentry: reentry, location: at)
    }

    private func readExit(_ node: Node, path: String) -> ExitSpec? {
        guard let map = reader.mapping(node, "an exit rule", allowed: ["on", "if", "do", "outcome"]) else { return nil }
        let on = map["on"].map { reader.names($0.value, "exit.on") } ?? []
        if map["on"] == nil { reader.missing("on", in: "an exit rule", at: node.location) }
        return ExitSpec(on: on,
                        condition: map["if"].flatMap { reader.expression($0.value, "exit.if") },
                        actions: map["do"].map { readActions($0.value, path: "\(path).do") } ?? [],
                        outcome: map["outcome"].flatMap { reader.string($0.value, "outcome") },
                        location: node.location)
    }

    private func readPolicy(_ pair: Node.Pair) -> PolicySpec {
        var policy = PolicySpec()
        guard let map = reader.mapping(pair.value, "policy", allowed: ["quiet_hours", "max_messages", "on_invalid"]) else { return policy }
        if let q = map["quiet_hours"], let qm = reader.mapping(q.value, "quiet_hours", allowed: ["from", "to", "timezone"]) {
            let from = qm["from"].flatMap { reader.string($0.value, "quiet_hours.from") }
            let to = qm["to"].flatMap { reader.string($0.value, "quiet_hours.to") }
            if qm["from"] == nil { reader.missing("from", in: "quiet_hours", at: q.key.location) }
            if qm["to"] == nil { reader.missing("to", in: "quiet_hours", at: q.key.location) }
            if let from, let to {
                policy.quietHours = QuietHoursSpec(from: from, to: to,
                                                   timezone: qm["timezone"].flatMap { reader.expression($0.value, "quiet_hours.timezone") },
                                                   location: q.key.location)
            }
        }
        if let m = map["max_messages"], let mm = reader.mapping(m.value, "max_messages", allowed: ["count", "per", "instead"]) {
            let count = mm["count"].flatMap { reader.integer($0.value, "max_messages.count", in: 1...10_000) }
            let per = mm["per"].flatMap { reader.duration($0.value, "max_messages.per") }
            if mm["count"] == nil { reader.missing("count", in: "max_messages", at: m.key.location) }
            if mm["per"] == nil { reader.missing("per", in: "max_messages", at: m.key.location) }
            if let count, let per {
                policy.maxMessages = MaxMessagesSpec(count: count, per: per,
                                                     instead: mm["instead"].map { readActions($0.value, path: "policy.max_messages.instead") } ?? [],
                                                     location: m.key.location)
            }
        }
        if let o = map["on_invalid"] {
            policy.onInvalid = readActions(o.value, path: "policy.on_invalid")
        }
        return policy
    }

    private func readState(_ entry: Node.Pair) -> StateSpec? {
        let name = Located(entry.name, at: entry.key.location)
        if entry.name.range(of: "^[A-Za-z_][A-Za-z0-9_-]*$", options: .regularExpression) == nil {
            reader.error("state name '\(entry.name)' must be letters, digits, '_' or '-'", at: entry.key.location, code: "invalid-value")
        }
        let path = "states.\(entry.name)"
        if entry.value.isNull {
            return StateSpec(name: name, actions: [], on: [], after: [], choose: [], chooseLocation: nil, end: nil)
        }
        guard let map = reader.mapping(entry.value, "state '\(entry.name)'", allowed: Self.stateKeys) else { return nil }
        var handlers: [HandlerSpec] = []
        if let on = map["on"] {
            if let pairs = on.value.pairs {
                for handler in pairs {
                    let event = Located(handler.name, at: handler.key.location)
                    let transitions = readTransitions(handler.value, path: "\(path).on.\(handler.name)")
                    handlers.append(HandlerSpec(event: event, transitions: transitions))
                }
            } else {
                reader.error("on must map event types to transitions", at: on.value.location, code: "invalid-value")
            }
        }
        var choices: [ChoiceSpec] = []
        if let choose = map["choose"] {
            for item in reader.listOrOne(choose.value) {
                if let choice = readChoice(item) { choices.append(choice) }
            }
        }
        return StateSpec(name: name,
                         actions: map["do"].map { readActions($0.value, path: "\(path).do") } ?? [],
                         on: handlers,
                         after: map["after"].map { readTimers($0.value, path: "\(path).after") } ?? [],
                         choose: choices,
                         chooseLocation: map["choose"]?.key.location,
                         end: map["end"].flatMap { reader.string($0.value, "end outcome") })
    }

    private func readTransitions(_ node: Node, path: String) -> [TransitionSpec] {
        if let items = node.items {
            return items.enumerated().compactMap { readTransition($0.element, path: "\(path)[\($0.offset)]") }
        }
        return readTransition(node, path: path).map { [$0] } ?? []
    }

    private func readTransition(_ node: Node, path: String) -> TransitionSpec? {
        if node.scalar != nil {
            guard let target = reader.string(node, "transition target") else { return nil }
            return TransitionSpec(target: target, condition: nil, actions: [], location: node.location)
        }
        guard let map = reader.mapping(node, "a transition", allowed: ["goto", "if", "do"]) else { return nil }
        return TransitionSpec(target: map["goto"].flatMap { reader.string($0.value, "goto") },
                              condition: map["if"].flatMap { reader.expression($0.value, "if") },
                              actions: map["do"].map { readActions($0.value, path: "\(path).do") } ?? [],
                              location: node.location)
    }

    private func readChoice(_ node: Node) -> ChoiceSpec? {
        guard let map = reader.mapping(node, "a choose branch", allowed: ["if", "goto", "else"]) else { return nil }
        if let otherwise = map["else"] {
            if map["if"] != nil || map["goto"] != nil {
                reader.error("an else branch has only 'else: STATE'", at: node.location, code: "invalid-value")
            }
            guard let target = reader.string(otherwise.value, "else target") else { return nil }
            return ChoiceSpec(condition: nil, target: target, isElse: true, location: otherwise.key.location)
        }
        guard let condition = map["if"].flatMap({ reader.expression($0.value, "choose.if") }) else {
            if map["if"] == nil { reader.missing("if", in: "a choose branch", at: node.location) }
            return nil
        }
        guard let goto = map["goto"] else {
            reader.missing("goto", in: "a choose branch", at: node.location)
            return nil
        }
        guard let target = reader.string(goto.value, "goto") else { return nil }
        return ChoiceSpec(condition: condition, target: target, isElse: false, location: node.location)
    }

    func readTimers(_ node: Node, path: String) -> [TimerSpec] {
        let items = reader.listOrOne(node)
        let single = node.items == nil
        return items.enumerated().compactMap { readTimer($0.element, path: single ? "\(path)[0]" : "\(path)[\($0.offset)]") }
    }

    private func readTimer(_ node: Node, path: String) -> TimerSpec? {
        guard let map = reader.mapping(node, "a timer", allowed: Self.timerKeys) else { return nil }
        let kinds = ["delay", "between", "at"].filter { map[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first, let pair = map[kind] else {
            let message = kinds.isEmpty ? "a timer needs one of delay, between or at" : "a timer has only one of delay, between or at"
            reader.error(message, at: node.location, code: kinds.isEmpty ? "missing-key" : "invalid-value")
            return nil
        }
        var when: TimerWhen
        var label: String
        switch kind {
        case "delay":
            guard let d = reader.duration(pair.value, "delay") else { return nil }
            when = .delay(d)
            label = pair.value.scalar ?? ""
        case "between":
            guard let items = pair.value.items, items.count == 2 else {
                reader.error("between takes [MIN, MAX], two durations", at: pair.value.location, code: "invalid-value")
                return nil
            }
            guard let lo = reader.duration(items[0], "between"), let hi = reader.duration(items[1], "between") else { return nil }
            if hi.value < lo.value {
                reader.error("between: the maximum \(DurationFormat.format(hi.value)) is before the minimum \(DurationFormat.format(lo.value))",
                             at: hi.location, code: "invalid-value")
            }
            when = .between(min: lo, max: hi)
            label = "between \(items[0].scalar ?? "") and \(items[1].scalar ?? "")"
        default:
            guard let e = reader.expression(pair.value, "at") else { return nil }
            when = .at(e)
            label = "at \(e.text)"
        }
        return TimerSpec(when: when, label: label,
                         calendar: map["calendar"].flatMap { reader.string($0.value, "calendar") },
                         condition: map["if"].flatMap { reader.expression($0.value, "if") },
                         actions: map["do"].map { readActions($0.value, path: "\(path).do") } ?? [],
                         target: map["goto"].flatMap { reader.string($0.value, "goto") },
                         late: map["late"].flatMap { reader.duration($0.value, "late") },
                         path: path, location: node.location)
    }

    func readActions(_ node: Node, path: String) -> [ActionSpec] {
        guard let items = node.items else {
            reader.error("do must be a list of actions", at: node.location, code: "invalid-value")
            return []
        }
        return items.enumerated().compactMap { readAction($0.element, path: "\(path)[\($0.offset)]") }
    }

    private func readAction(_ node: Node, path: String) -> ActionSpec? {
        guard let pairs = node.pairs else {
            reader.error("an action is a mapping such as {email: {...}}, not \(node.kindDescription)", at: node.location, code: "invalid-value")
            return nil
        }
        let connectors = pairs.filter { !Self.actionSiblings.contains($0.name) }
        guard connectors.count == 1, let connector = connectors.first else {
            if connectors.isEmpty {
                reader.error("an action needs a connector key such as email, slack or task", at: node.location, code: "missing-key")
            } else {
                reader.error("an action has one connector key; found \(connectors.map(\.name).joined(separator: ", "))",
                             at: connectors[1].key.location, code: "invalid-value")
            }
            return nil
        }
        let siblings = Dictionary(pairs.filter { Self.actionSiblings.contains($0.name) }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var attempts: Located<Int>?
        var backoff: Located<Double>?
        if let retry = siblings["retry"], let r = reader.mapping(retry.value, "retry", allowed: ["attempts", "backoff"]) {
            attempts = r["attempts"].flatMap { reader.integer($0.value, "retry.attempts", in: 1...100) }
            backoff = r["backoff"].flatMap { reader.duration($0.value, "retry.backoff") }
        }
        var onError = OnErrorSpec.continue
        if let e = siblings["on_error"] {
            if e.value.scalar == "continue" {
                onError = .continue
            } else if let m = reader.mapping(e.value, "on_error", allowed: ["goto"]), let g = m["goto"], let target = reader.string(g.value, "on_error.goto") {
                onError = .goto(target)
            }
        }
        return ActionSpec(connector: Located(connector.name, at: connector.key.location),
                          arguments: connector.value,
                          condition: siblings["if"].flatMap { reader.expression($0.value, "if") },
                          id: siblings["id"].flatMap { reader.string($0.value, "id") },
                          retryAttempts: attempts, retryBackoff: backoff, onError: onError,
                          audience: siblings["audience"].flatMap { reader.choice($0.value, "audience", Audience.allCases.map(\.rawValue)) },
                          exempt: siblings["exempt"].flatMap { reader.bool($0.value, "exempt") } ?? false,
                          path: path, location: node.location)
    }
}
