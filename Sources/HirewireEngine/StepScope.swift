import Foundation
import HirewireLanguage

/// The roots a step adds to the journey's context — `journey`, `state`, `vars`, `env`,
/// `event` and the flow's `let` names — resolved only when an expression or template reads
/// them. Building them into a dictionary for every guard and template was most of a step's cost.
///
/// `@unchecked Sendable`: one step creates it, updates it and reads it on its own thread; it
/// never outlives the step (expression contexts that hold it are not kept either). For the same
/// reason its stored variables are `@exclusivity(unchecked)`: no two accesses can overlap, and
/// the run-time check of each read and write cost more than the reads.
final class StepScope: RootScope, @unchecked Sendable {
    let journeyId: String
    let key: String
    let flow: String
    let version: String
    let startedAt: Date
    @exclusivity(unchecked) var stateName: String
    @exclusivity(unchecked) var stateEnteredAt: Date
    @exclusivity(unchecked) var vars: [String: Value]
    /// The event being applied; its `event` value is built only when something reads it (most
    /// guards and templates never do, and building it hashes five keys).
    @exclusivity(unchecked) var event: CanonicalEvent? {
        didSet { eventValue = nil }
    }
    @exclusivity(unchecked) private var eventValue: Value?
    let env: [String: String]
    /// The `let` names in order and their values; only the first `visibleLets` are defined
    /// (while the stepper evaluates binding i, the ones before it).
    let lets: [MachineLet]
    @exclusivity(unchecked) var letValues: [Value]
    @exclusivity(unchecked) var visibleLets = 0
    @exclusivity(unchecked) private var journeyValue: Value?
    @exclusivity(unchecked) private var envValue: Value?
    /// The journey's context entities (`candidate`, `offer`, …) side by side, found by a scan
    /// of a handful of names instead of a hash of the name on every read: taken from the
    /// journey at creation, then again (``setContext(_:)``) whenever a merge changes the context.
    @exclusivity(unchecked) private var entityNames: [String] = []
    @exclusivity(unchecked) private var entityValues: [Value] = []

    init(journey: Journey, event: CanonicalEvent?, env: [String: String], lets: [MachineLet]) {
        journeyId = journey.id
        key = journey.key
        flow = journey.flow
        version = journey.version
        startedAt = journey.startedAt
        stateName = journey.state
        stateEnteredAt = journey.stateEnteredAt
        vars = journey.vars
        self.event = event
        self.env = env
        self.lets = lets
        letValues = Array(repeating: .null, count: lets.count)
        setContext(journey.context)
    }

    /// The journey's context changed (a merge): its entities are taken again.
    func setContext(_ context: [String: Value]) {
        entityNames.removeAll(keepingCapacity: true)
        entityValues.removeAll(keepingCapacity: true)
        entityNames.reserveCapacity(context.count)
        entityValues.reserveCapacity(context.count)
        for (name, value) in context {
            entityNames.append(name)
            entityValues.append(value)
        }
    }

    func root(_ name: String) -> Value? {
        var i = 0
        while i < visibleLets {
            if lets[i].name == name { return letValues[i] }
            i += 1
        }
        // Most names asked for are the context's entities (candidate, offer, …): the length and
        // first byte turn them away before any string comparison.
        let utf8 = name.utf8
        guard let first = utf8.first else { return .none }
        switch (utf8.count, first) {
        case (5, UInt8(ascii: "e")) where name == "event":
            if let eventValue { return eventValue }
            let value = event?.value
            eventValue = value
            return value
        case (4, UInt8(ascii: "v")) where name == "vars": return .object(vars)
        case (5, UInt8(ascii: "s")) where name == "state":
            return .object(["name": .string(stateName), "entered_at": .timestamp(stateEnteredAt)])
        case (7, UInt8(ascii: "j")) where name == "journey":
            if let journeyValue { return journeyValue }
            let value: Value = .object(["id": .string(journeyId), "key": .string(key), "flow": .string(flow),
                                        "version": .string(version), "started_at": .timestamp(startedAt)])
            journeyValue = value
            return value
        case (3, UInt8(ascii: "e")) where name == "env":
            if let envValue { return envValue }
            let value: Value = .object(env.mapValues(Value.string))
            envValue = value
            return value
        default:
            let length = utf8.count
            var i = 0
            while i < entityNames.count {
                if entityNames[i].utf8.count == length, entityNames[i] == name { return entityValues[i] }
                i += 1
            }
            return .none
        }
    }
}

/// `event` over an event's data, for `start.key` and `start.if`: the event's own value is
/// built only if the expression reads `event` (a key such as `application.id` never does, and
/// every flow's key is evaluated for every event). For `start.if` it also has `env` and the
/// flow's `let` names, computed from the event's data as the journey's first context would be.
///
/// `@unchecked Sendable`: `built` and the let values are filled on first read by the one step
/// that owns the context; the context is never shared beyond that evaluation.
final class EventRoot: RootScope, @unchecked Sendable {
    let event: CanonicalEvent
    let env: [String: String]?
    let lets: [MachineLet]
    let now: Date
    @exclusivity(unchecked) private var built: Value?
    @exclusivity(unchecked) private var letValues: [Value?] = []
    /// While let `i` is evaluated only the ones before it are visible (no let sees itself).
    @exclusivity(unchecked) private var visibleLets: Int

    init(_ event: CanonicalEvent, env: [String: String]? = nil, lets: [MachineLet] = [], now: Date = Date(timeIntervalSince1970: 0)) {
        self.event = event
        self.env = env
        self.lets = lets
        self.now = now
        visibleLets = lets.count
    }

    // `.none`, not `nil`: Value is itself ExpressibleByNilLiteral, and `c ? value : nil` would be `.null`.
    func root(_ name: String) -> Value? {
        if name == "event" {
            if let built { return built }
            let value = event.value
            built = value
            return value
        }
        if name == "env", let env { return .object(env.mapValues(Value.string)) }
        guard let i = lets.prefix(visibleLets).firstIndex(where: { $0.name == name }) else { return .none }
        if letValues.isEmpty { letValues = Array(repeating: nil, count: lets.count) }
        if let known = letValues[i] { return known }
        let outer = visibleLets
        visibleLets = i
        let value = lets[i].expression.evaluate(ExprContext(roots: event.data.objectValue ?? [:], now: now, scope: self))
        visibleLets = outer
        letValues[i] = value
        return value
    }

    /// What `start.key` sees: the event's entities and the event itself.
    static func context(_ event: CanonicalEvent, now: Date) -> ExprContext {
        ExprContext(roots: event.data.objectValue ?? [:], now: now, scope: EventRoot(event))
    }

    /// What `start.if` sees: the event's entities, the event, `env` and the flow's `let` names.
    static func startContext(_ event: CanonicalEvent, machine: Machine, env: [String: String], now: Date) -> ExprContext {
        ExprContext(roots: event.data.objectValue ?? [:], now: now, scope: EventRoot(event, env: env, lets: machine.lets, now: now))
    }
}
