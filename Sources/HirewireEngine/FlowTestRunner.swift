import Foundation
import HirewireLanguage

/// The outcome of one flow test.
public struct FlowTestResult: Sendable {
    public var name: String
    public var file: String
    /// Why it failed, one line per unmet expectation; empty when it passed.
    public var failures: [String]
    public var timeline: [TimelineEntry]
    public var passed: Bool { failures.isEmpty }

    public init(name: String, file: String, failures: [String], timeline: [TimelineEntry]) {
        self.name = name
        self.file = file
        self.failures = failures
        self.timeline = timeline
    }
}

/// Runs flow tests (`*.test.yaml`) on a virtual clock: events go in at their times, timers fire
/// in due order, connectors are recorded, and the expectations are checked against what happened.
///
/// Expectations:
/// - `{at: +36h, email: {template: offer-check-in, to: ada@example.com}}` — an action of that
///   connector queued at that moment (relative to `clock`, or RFC 3339) whose arguments include
///   the given ones (`template` matches the template name); without `at`, at any moment.
/// - `{state: accepted, outcome: hired}` — where the journey is when the test ends (`key: a2`
///   says which, when the test has journeys for several keys).
/// - `{none_after: +20h, of: [email, sms]}` — no such action after that moment (`none_before` too).
/// - `{count: 1, of: [email]}` — exactly that many such actions.
/// - `{kind: deferred, at: +2h, until: "2026-03-03T08:00:00Z"}` — a timeline entry (any kind
///   `simulate` prints) at that moment with those fields.
public struct FlowTestRunner {
    public let project: CompiledProject
    public let env: [String: String]

    public init(project: CompiledProject, env: [String: String] = [:]) {
        self.project = project
        self.env = env
    }

    public func run(_ test: FlowTestSpec) -> FlowTestResult {
        var result = FlowTestResult(name: test.name.value, file: test.file, failures: [], timeline: [])
        guard let machine = project.machines[test.flow.value] else {
            result.failures.append("flow '\(test.flow.value)' does not compile or does not exist")
            return result
        }
        guard let clock = Timestamp.parse(test.clock.value) else {
            result.failures.append("clock '\(test.clock.value)' is not an RFC 3339 time")
            return result
        }
        var simulation = Simulation(machines: [machine], setup: EngineSetup(project), clock: clock, env: env)
        var last = clock
        for (i, spec) in test.events.enumerated() {
            guard let at = Self.time(spec.at.value, from: clock) else {
                result.failures.append("\(spec.at.location): event \(i + 1): 'at: \(spec.at.value)' is not +DURATION or an RFC 3339 time")
                return result
            }
            simulation.advance(to: at)
            simulation.send(CanonicalEvent(id: "test_\(i + 1)", type: spec.type.value, occurredAt: at, source: "test", data: spec.data))
            last = max(last, at)
        }
        // Let every timer play out (journeys end by their timeout at the latest).
        simulation.advance(to: last.addingTimeInterval(max(machine.timeout, 86400) + 86400))
        result.timeline = simulation.timeline
        for (i, expectation) in test.expect.enumerated() {
            if let failure = check(expectation, simulation: simulation, clock: clock, flow: machine.id) {
                result.failures.append("\(expectation.location): expect[\(i)]: \(failure)")
            }
        }
        return result
    }

    /// `+20h` relative to `clock`, `-1h`, `+0m`, or an absolute RFC 3339 time.
    public static func time(_ text: String, from clock: Date) -> Date? { FlowTestVocabulary.time(text, from: clock) }

    func check(_ node: Node, simulation: Simulation, clock: Date, flow: String) -> String? {
        let value = node.toValue()
        guard case .object(let fields) = value else { return "an expectation is a mapping" }
        let at: Date?
        if let text = fields["at"]?.displayString {
            guard let t = Self.time(text, from: clock) else { return "'at: \(text)' is not a time" }
            at = t
        } else {
            at = nil
        }
        let actions = simulation.actions.filter { $0.flow == flow }
        // `kind` first: a timeline entry's fields may be called state, outcome or count.
        if let kind = fields["kind"]?.stringValue {
            let wanted = fields.filter { !["kind", "at"].contains($0.key) }
            let found = simulation.timeline.contains { entry in
                entry.kind == kind && (entry.flow == flow || entry.flow.isEmpty) && (at == nil || entry.at == at)
                    // `journey` is the key, as `simulate` prints it.
                    && wanted.allSatisfy { k, v in (k == "journey" ? .string(entry.key) : entry.fields[k]).map { matches($0, v) } ?? false }
            }
            return found ? nil : "no '\(kind)' entry\(at.map { " at \(Timestamp.format($0))" } ?? "") with \(Value.object(wanted).jsonString())"
        }
        if fields["state"] != nil || fields["outcome"] != nil {
            // One journey per key: the newest (a restart makes a new one). With several keys the
            // expectation names its journey with `key`; it used to look at the newest alone.
            var newest: [String: Journey] = [:]
            for journey in simulation.journeys.values where journey.flow == flow {
                if let known = newest[journey.key], known.id > journey.id { continue }
                newest[journey.key] = journey
            }
            let key = fields["key"]?.displayString
            if key == nil, newest.count > 1 {
                return "the test has journeys for \(newest.count) keys (\(newest.keys.sorted().joined(separator: ", "))): say which with key:"
            }
            guard let journey = key.map({ newest[$0] }) ?? newest.values.first else {
                return key.map { "no journey for key '\($0)'" } ?? "no journey started"
            }
            if let state = fields["state"]?.stringValue, journey.state != state {
                return "expected state '\(state)', the journey is in '\(journey.state)'"
            }
            if let outcome = fields["outcome"]?.stringValue, journey.outcome != outcome {
                return "expected outcome '\(outcome)', got \(journey.outcome.map { "'\($0)'" } ?? "none (still active)")"
            }
            return nil
        }
        if let limit = fields["none_after"] ?? fields["none_before"] {
            let after = fields["none_after"] != nil
            guard let t = Self.time(limit.displayString, from: clock) else { return "not a time: \(limit.displayString)" }
            // Without `of`, any action counts (plugin connectors too).
            let kinds = fields["of"].map(Self.connectors)
            let offending = actions.filter { action in
                (kinds.map { names($0, include: action.action.connector) } ?? true) && (after ? action.at > t : action.at < t)
            }
            return offending.isEmpty ? nil : "unexpected \(offending.map { describe($0.action, at: $0.at, clock: clock) }.joined(separator: "; "))"
        }
        if let count = fields["count"]?.numberValue {
            guard let of = fields["of"] else { return "count needs 'of' (the connectors to count)" }
            let kinds = Self.connectors(of)
            let n = actions.filter { names(kinds, include: $0.action.connector) }.count
            return n == Int(count) ? nil : "expected \(Int(count)) \(kinds.sorted().joined(separator: "/")) actions, got \(n)"
        }
        let keys = fields.keys.filter { $0 != "at" }.sorted()
        guard keys.count == 1, let connector = keys.first else {
            return "an expectation names one connector (or state/outcome, none_after, none_before, count, kind); got \(keys.joined(separator: ", "))"
        }
        let wanted = fields[connector]?.objectValue ?? [:]
        let candidates = actions.filter { names([connector], include: $0.action.connector) }
        let match = candidates.first { item in
            (at == nil || item.at == at) && wanted.allSatisfy { k, v in
                k == "template" ? item.action.template == v.stringValue : matches(item.action.arguments[k], v)
            }
        }
        if match != nil { return nil }
        let seen = candidates.isEmpty ? "no \(connector) actions at all" : "saw " + candidates.map { describe($0.action, at: $0.at, clock: clock) }.joined(separator: "; ")
        return "no \(connector)\(at.map { " at \(Timestamp.format($0))" } ?? "") matching \(Value.object(wanted).jsonString()); \(seen)"
    }

    /// The connector names of `of:`, one or a list.
    static func connectors(_ of: Value) -> Set<String> {
        Set(of.arrayValue?.compactMap(\.stringValue) ?? of.stringValue.map { [$0] } ?? [])
    }

    /// Whether connector names written in a test take in an action's connector as the flow wrote
    /// it: the same name; a plugin's name for any of its actions (`crm_note` for
    /// `crm_note.add`); or `NAME.ACTION` for `NAME:`, the short form of a plugin's only action.
    func names(_ written: Set<String>, include connector: String) -> Bool {
        if written.contains(connector) { return true }
        if let dot = connector.firstIndex(of: "."), written.contains(String(connector[..<dot])) { return true }
        let schemas = project.files.pluginSchemas
        guard !connector.contains("."), schemas[connector] != nil else { return false }
        let actions = schemas.keys.filter { $0.hasPrefix(connector + ".") }
        return actions.count == 1 && actions.allSatisfy(written.contains)
    }

    func matches(_ actual: Value, _ wanted: Value) -> Bool {
        if case .object(let w) = wanted { return w.allSatisfy { k, v in matches(actual[k], v) } }
        // Times are the same instant however they are written (`09:00:00+01:00` is `08:00:00Z`).
        if let a = actual.asTimestamp, let b = wanted.asTimestamp { return abs(a.timeIntervalSince(b)) < 0.001 }
        return actual.displayString == wanted.displayString
    }

    func describe(_ action: PlannedAction, at: Date, clock: Date) -> String {
        let offset = DurationFormat.format(at.timeIntervalSince(clock))
        return "\(action.connector)\(action.template.map { " \($0)" } ?? "") at +\(offset) (\(Timestamp.format(at)))"
    }
}
