import Foundation

/// The words a flow test's expectations use, shared by the checks here and the engine's test
/// runner.
public enum FlowTestVocabulary {
    /// The kinds of timeline entry the engine records (what `simulate` prints and
    /// `{kind: …}` expectations match).
    public static let timelineKinds: Set<String> = [
        "start", "transition", "action", "action_failed", "deferred", "deferred_dropped", "capped",
        "timer_set", "timer_fired", "timer_cancelled", "timer_skipped", "timer_expired", "window_missed",
        "bad_timezone", "emit", "set", "log", "error", "exit", "end", "ignored", "review", "migrated",
        "timer_postponed",
    ]

    /// Outcomes the engine gives a journey on its own (besides a flow's `end:` and `exit` ones).
    public static let engineOutcomes: [String] = ["timed_out", "restarted", "cancelled", "error"]

    /// A flow test's time: `+20h` or `-1h` relative to `clock`, or an RFC 3339 time.
    public static func time(_ text: String, from clock: Date) -> Date? {
        if let absolute = Timestamp.parse(text) { return absolute }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        guard case .success(let seconds) = DurationSyntax.parse(String(text.dropFirst())) else { return nil }
        return clock.addingTimeInterval(sign == "+" ? seconds : -seconds)
    }
}

/// Checks a flow test against the project before it runs: its flow exists, its events have known
/// types and readable times, and each expectation has one of the shapes the runner knows, with
/// connector, state and outcome names that exist. A misspelled name used to pass quietly
/// (`{none_after: +20h, of: [emali]}` holds for any journey); now it is an error at its line and
/// column.
struct FlowTestChecks {
    let test: FlowTestSpec
    let flows: [FlowSpec]
    let project: ProjectContext
    let reader: NodeReader

    /// Any fixed moment: the checks only ask whether a time reads, not when it is.
    private static let anyClock = Date(timeIntervalSince1970: 0)

    func run() {
        let flow = flows.first { $0.id.value == test.flow.value }
        if flow == nil {
            let ids = flows.map(\.id.value)
            reader.error("unknown flow '\(test.flow.value)'\(Suggest.hint(for: test.flow.value, in: ids))", at: test.flow.location, code: "unknown-flow")
        }
        // Events go in at their times, in the order written: one listed out of order (or before
        // the clock) would be run later than it says.
        let clock = Timestamp.parse(test.clock.value)
        var previous: (at: Date, text: String)?
        // What each application's events said so far, as the engine fills missing fields from it.
        var profiles = ApplicationProfiles()
        for event in test.events {
            EventTypes.check(event.type, reader: reader)
            let missing = profiles.takeIn(event.data, type: event.type.value).missing
            if !missing.isEmpty {
                reader.warning("this \(event.type.value) lacks \(missing.joined(separator: ", ")), which its type requires (nor did an earlier event of its application say): it waits in review, reaching no flow, until a later event of its application says what it lacks",
                               at: event.location, code: "incomplete-event")
            }
            time(event.at.value, at: event.at.location)
            guard let clock, let at = FlowTestVocabulary.time(event.at.value, from: clock) else { continue }
            if at < clock {
                reader.error("'\(event.at.value)' is before the test's clock (\(test.clock.value))", at: event.at.location, code: "invalid-value")
            } else if let previous, at < previous.at {
                reader.error("events go in time order: '\(event.at.value)' comes before '\(previous.text)' of the event above it",
                             at: event.at.location, code: "invalid-value")
            }
            previous = (max(at, previous?.at ?? at), event.at.value)
        }
        for expectation in test.expect { check(expectation, flow: flow) }
    }

    private func time(_ text: String, at location: SourceLocation) {
        if FlowTestVocabulary.time(text, from: Self.anyClock) == nil {
            reader.error("'\(text)' is not a time: write +DURATION or -DURATION from the clock (+36h, +2d4h) or an RFC 3339 time",
                         at: location, code: "invalid-value")
        }
    }

    private func check(_ node: Node, flow: FlowSpec?) {
        guard let pairs = node.pairs else {
            reader.error("an expectation must be a mapping, not \(node.kindDescription)", at: node.location, code: "invalid-value")
            return
        }
        let names = Set(pairs.map(\.name))
        let what: String
        let allowed: [String]
        // `kind` first: a timeline entry's fields may be called state, outcome or count.
        if names.contains("kind") {
            // A timeline entry's own fields are open-ended; only the kind is checked.
            if let kind = node.pair("kind"), let name = reader.string(kind.value, "kind"), !FlowTestVocabulary.timelineKinds.contains(name.value) {
                reader.error("unknown timeline kind '\(name.value)'\(Suggest.hint(for: name.value, in: FlowTestVocabulary.timelineKinds.sorted()))",
                             at: name.location, code: "invalid-value")
            }
            if let at = node.pair("at") { timeValue(at.value) }
            return
        } else if !names.isDisjoint(with: ["state", "outcome"]) {
            (what, allowed) = ("a state/outcome expectation", ["state", "outcome", "key"])
        } else if names.contains("none_after") || names.contains("none_before") {
            (what, allowed) = ("a none_after/none_before expectation", [names.contains("none_after") ? "none_after" : "none_before", "of"])
        } else if names.contains("count") {
            (what, allowed) = ("a count expectation", ["count", "of"])
        } else {
            connectorExpectation(node, pairs: pairs)
            return
        }
        guard let m = reader.mapping(node, what, allowed: allowed) else { return }
        if let state = m["state"], let name = reader.string(state.value, "state"), let flow, !flow.states.contains(where: { $0.name.value == name.value }) {
            let states = flow.states.map(\.name.value)
            reader.error("flow '\(flow.id.value)' has no state '\(name.value)'\(Suggest.hint(for: name.value, in: states))", at: name.location, code: "unknown-state")
        }
        if let outcome = m["outcome"], let name = reader.string(outcome.value, "outcome"), let flow {
            let outcomes = flow.states.compactMap(\.end?.value) + flow.exits.map { $0.outcome?.value ?? "exited" } + FlowTestVocabulary.engineOutcomes
            if !outcomes.contains(name.value) {
                reader.error("flow '\(flow.id.value)' never ends with outcome '\(name.value)'\(Suggest.hint(for: name.value, in: outcomes)); it can end with \(Set(outcomes).sorted().joined(separator: ", "))",
                             at: name.location, code: "unknown-outcome")
            }
        }
        if let limit = m["none_after"] ?? m["none_before"] { timeValue(limit.value) }
        if let count = m["count"] {
            _ = reader.integer(count.value, "count", in: 0...1_000_000)
            if m["of"] == nil { reader.missing("of", in: what, at: node.location) }
        }
        if let of = m["of"] {
            for name in reader.names(of.value, "of") { connectorName(name) }
        }
    }

    /// `{at: +0m, email: {template: offer-next-steps, to: …}}`: one connector, its wanted arguments.
    private func connectorExpectation(_ node: Node, pairs: [Node.Pair]) {
        let connectors = pairs.filter { $0.name != "at" }
        if let at = node.pair("at") { timeValue(at.value) }
        guard connectors.count == 1, let connector = connectors.first else {
            let message = connectors.isEmpty
                ? "an expectation needs a connector (email: {…}), state/outcome, none_after/none_before, count or kind"
                : "an expectation names one connector; this one has \(connectors.map(\.name).joined(separator: ", "))"
            reader.error(message, at: node.location, code: "invalid-value")
            return
        }
        connectorName(Located(connector.name, at: connector.key.location))
        let wanted = connector.value
        if wanted.pairs == nil && !wanted.isNull {
            reader.error("\(connector.name) takes a mapping of the arguments to match, not \(wanted.kindDescription)", at: wanted.location, code: "invalid-value")
        }
        if connector.name == "email", let template = wanted.pair("template"), let name = reader.string(template.value, "template"),
           project.templates[name.value] == nil {
            reader.error("unknown template '\(name.value)'\(Suggest.hint(for: name.value, in: project.templates.keys.sorted()))",
                         at: name.location, code: "unknown-template")
        }
    }

    private func connectorName(_ name: Located<String>) {
        if let contract = ConnectorCatalog.builtIns[name.value], !contract.dispatched {
            // set, emit and log act inside the step: they are timeline entries, never actions.
            reader.error("\(name.value) is not dispatched, so no expectation on actions sees it; match its timeline entry with {kind: \(name.value)}",
                         at: name.location, code: "invalid-value")
            return
        }
        if ConnectorCatalog.builtIns[name.value] != nil { return }
        if project.isPlugin(name.value) {
            // A plugin that described itself names its actions: `NAME.ACTION` must be one.
            let base = name.value.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name.value
            let actions = project.pluginSchemas.keys.filter { $0.hasPrefix(base + ".") }.sorted()
            if name.value.contains("."), !actions.isEmpty, !actions.contains(name.value) {
                reader.error("plugin '\(base)' has no action '\(name.value.dropFirst(base.count + 1))'\(Suggest.hint(for: name.value, in: actions)); it has \(actions.joined(separator: ", "))",
                             at: name.location, code: "unknown-connector")
            }
            return
        }
        let known = ConnectorCatalog.names + project.pluginNames
        reader.error("unknown connector '\(name.value)'\(Suggest.hint(for: name.value, in: known)); built-ins are \(ConnectorCatalog.names.joined(separator: ", "))",
                     at: name.location, code: "unknown-connector")
    }

    private func timeValue(_ node: Node) {
        guard let text = reader.string(node, "a time") else { return }
        time(text.value, at: text.location)
    }
}
