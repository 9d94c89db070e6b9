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
final class StepScope: RootScope, LetScope, @unchecked Sendable {
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
    let now: Date
    /// The flow's `let` names, each evaluated when first read.
    @exclusivity(unchecked) var lets: LazyLets
    /// The journey's context as expressions see it (the roots `let` names are evaluated over).
    @exclusivity(unchecked) private var context: [String: Value] = [:]
    @exclusivity(unchecked) private var journeyValue: Value?
    @exclusivity(unchecked) private var envValue: Value?
    /// The journey's context entities (`candidate`, `offer`, …) side by side, found by a scan
    /// of a handful of names instead of a hash of the name on every read: taken from the
    /// journey at creation, then again (``setContext(_:)``) whenever a merge changes the context.
    @exclusivity(unchecked) private var entityNames: [String] = []
    @exclusivity(unchecked) private var entityValues: [Value] = []

    init(journey: Journey, event: CanonicalEvent?, env: [String: String], lets: [MachineLet], now: Date) {
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
        self.now = now
        self.lets = LazyLets(lets)
        setContext(journey.context)
    }

    /// The journey's context changed (a merge): its entities are taken again.
    func setContext(_ context: [String: Value]) {
        self.context = context
        entityNames.removeAll(keepingCapacity: true)
        entityValues.removeAll(keepingCapacity: true)
        entityNames.reserveCapacity(context.count)
        entityValues.reserveCapacity(context.count)
        for (name, value) in context {
            entityNames.append(name)
            entityValues.append(value)
        }
    }

    func letContext() -> ExprContext { ExprContext(roots: context, now: now, scope: self) }

    func root(_ name: String) -> Value? {
        if let value = letValue(name) { return value }
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
final class EventRoot: RootScope, LetScope, @unchecked Sendable {
    let event: CanonicalEvent
    let env: [String: String]?
    let now: Date
    @exclusivity(unchecked) private var built: Value?
    @exclusivity(unchecked) var lets: LazyLets

    init(_ event: CanonicalEvent, env: [String: String]? = nil, lets: [MachineLet] = [], now: Date = Date(timeIntervalSince1970: 0)) {
        self.event = event
        self.env = env
        self.lets = LazyLets(lets)
        self.now = now
    }

    func letContext() -> ExprContext { ExprContext(roots: event.data.objectValue ?? [:], now: now, scope: self) }

    // `.none`, not `nil`: Value is itself ExpressibleByNilLiteral, and `c ? value : nil` would be `.null`.
    func root(_ name: String) -> Value? {
        if name == "event" {
            if let built { return built }
            let value = event.value
            built = value
            return value
        }
        if name == "env", let env { return .object(env.mapValues(Value.string)) }
        return letValue(name)
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

/// A flow's `let` names as one scope sees them: each is evaluated when first read and kept until
/// what it reads changes (``reset()``). While binding `i` is evaluated only the bindings before
/// it are visible, so no name sees itself or a later one (a later name reads as the context
/// entity of that name, if any) — the order they are written in.
struct LazyLets {
    let bindings: [MachineLet]
    private(set) var values: [Value?]
    /// Bindings `0..<visible` are defined.
    private(set) var visible: Int

    init(_ bindings: [MachineLet]) {
        self.bindings = bindings
        values = Array(repeating: nil, count: bindings.count)
        visible = bindings.count
    }

    /// What the names read changed (a merge, a state entry, `set`): every value is forgotten.
    mutating func reset() {
        for i in values.indices where values[i] != nil { values[i] = nil }
    }

    /// The visible binding called `name`.
    func index(of name: String) -> Int? {
        var i = 0
        while i < visible {
            if bindings[i].name == name { return i }
            i += 1
        }
        return nil
    }

    /// Hides binding `i` and those after it while `i` is evaluated; returns what to restore.
    mutating func begin(_ i: Int) -> Int {
        let outer = visible
        visible = i
        return outer
    }

    /// Binding `i` evaluated to `value`; the names hidden by ``begin(_:)`` are visible again.
    mutating func end(_ i: Int, _ value: Value, restoring outer: Int) {
        values[i] = value
        visible = outer
    }
}

/// A scope that holds a flow's `let` names and evaluates them over its own roots.
protocol LetScope: AnyObject {
    var lets: LazyLets { get set }
    /// What a `let` expression sees: the scope's entities, with the scope itself on top.
    func letContext() -> ExprContext
}

extension LetScope {
    /// The value of the `let` called `name`, evaluated on first read; nil when no visible `let`
    /// has that name. Each access to `lets` is short: evaluation reads other names through the
    /// scope again, between them.
    func letValue(_ name: String) -> Value? {
        guard let i = lets.index(of: name) else { return nil }
        if let known = lets.values[i] { return known }
        let outer = lets.begin(i)
        let value = lets.bindings[i].expression.evaluate(letContext())
        lets.end(i, value, restoring: outer)
        return value
    }
}
