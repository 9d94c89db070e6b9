import Foundation
import HirewireLanguage

/// The roots a step adds to the journey's context — `journey`, `state`, `vars`, `env`,
/// `event` and the flow's `let` names — resolved only when an expression or template reads
/// them. Building them into a dictionary for every guard and template was most of a step's cost.
///
/// `@unchecked Sendable`: one step creates it, updates it and reads it on its own thread; it
/// never outlives the step (expression contexts that hold it are not kept either).
final class StepScope: RootScope, @unchecked Sendable {
    let journeyId: String
    let key: String
    let flow: String
    let version: String
    let startedAt: Date
    var stateName: String
    var stateEnteredAt: Date
    var vars: [String: Value]
    var event: Value?
    let env: [String: String]
    /// The `let` names in order and their values; only the first `visibleLets` are defined
    /// (while the stepper evaluates binding i, the ones before it).
    let letNames: [String]
    var letValues: [Value]
    var visibleLets = 0
    private var journeyValue: Value?
    private var envValue: Value?

    init(journey: Journey, event: Value?, env: [String: String], lets: [MachineLet]) {
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
        letNames = lets.map(\.name)
        letValues = Array(repeating: .null, count: lets.count)
    }

    func root(_ name: String) -> Value? {
        var i = 0
        while i < visibleLets {
            if letNames[i] == name { return letValues[i] }
            i += 1
        }
        switch name {
        case "event": return event
        case "vars": return .object(vars)
        case "state": return .object(["name": .string(stateName), "entered_at": .timestamp(stateEnteredAt)])
        case "journey":
            if let journeyValue { return journeyValue }
            let value: Value = .object(["id": .string(journeyId), "key": .string(key), "flow": .string(flow),
                                        "version": .string(version), "started_at": .timestamp(startedAt)])
            journeyValue = value
            return value
        case "env":
            if let envValue { return envValue }
            let value: Value = .object(env.mapValues(Value.string))
            envValue = value
            return value
        default: return .none
        }
    }
}

/// `event` over an event's data, for `start.key` and `start.if`: the event's own value is
/// built only if the expression reads `event` (a key such as `application.id` never does, and
/// every flow's key is evaluated for every event).
///
/// `@unchecked Sendable`: `built` is filled on first read by the one step that owns the
/// context; the context is never shared beyond that evaluation.
final class EventRoot: RootScope, @unchecked Sendable {
    let event: CanonicalEvent
    private var built: Value?

    init(_ event: CanonicalEvent, value: Value? = nil) {
        self.event = event
        built = value
    }

    // `.none`, not `nil`: Value is itself ExpressibleByNilLiteral, and `c ? value : nil` would be `.null`.
    func root(_ name: String) -> Value? {
        guard name == "event" else { return .none }
        if let built { return built }
        let value = event.value
        built = value
        return value
    }

    /// What `start.key` and `start.if` see: the event's entities and the event itself.
    static func context(_ event: CanonicalEvent, value: Value? = nil, now: Date) -> ExprContext {
        ExprContext(roots: event.data.objectValue ?? [:], now: now, scope: EventRoot(event, value: value))
    }
}
