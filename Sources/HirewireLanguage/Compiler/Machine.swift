import Foundation

/// A compiled flow: an immutable state machine the engine steps through. Everything is
/// resolved: state targets are indices, expressions are type-checked and compiled, templates
/// are parsed, durations are seconds.
public struct Machine: Sendable {
    public var id: String
    /// The hash of the flow file's normalized content (`v` + 12 hex digits).
    public var version: String
    public var file: String
    public var description: String?
    public var start: MachineStart
    /// Seconds after which the journey ends with outcome `timed_out`.
    public var timeout: Double
    public var lets: [MachineLet]
    /// Paths that must be present (non-null) for a journey to start; otherwise review.
    public var require: [MachinePath]
    public var exits: [MachineExit]
    public var policy: MachinePolicy
    /// Journey-wide timers, armed at start.
    public var after: [MachineTimer]
    public var initial: Int
    public var states: [MachineState]
    /// State name → index.
    public var stateIndex: [String: Int]
    /// Old state name → new state index, for moving journeys of older versions.
    public var migrate: [String: Int]

    /// The state with this name.
    public func state(named name: String) -> MachineState? {
        stateIndex[name].map { states[$0] }
    }
}

/// A dotted path that `require` checks, with where it was written.
public struct MachinePath: Sendable {
    public var components: [String]
    public var source: ExpressionSource
    /// `candidate.email`
    public var dotted: String { components.joined(separator: ".") }
}

/// `start:` compiled.
public struct MachineStart: Sendable {
    public var on: [String]
    public var key: CompiledExpression
    public var condition: CompiledExpression?
    public var reentry: Reentry
}

/// A `let` binding compiled.
public struct MachineLet: Sendable {
    public var name: String
    public var expression: CompiledExpression
}

/// An `exit` rule compiled.
public struct MachineExit: Sendable {
    public var on: [String]
    public var condition: CompiledExpression?
    public var actions: [MachineAction]
    public var outcome: String
}

/// Policy compiled.
public struct MachinePolicy: Sendable {
    public var quietHours: MachineQuietHours?
    public var maxMessages: MachineMaxMessages?
    public var onInvalid: [MachineAction]
}

/// Quiet hours in minutes after local midnight, in the zone the expression gives.
public struct MachineQuietHours: Sendable {
    public var fromMinute: Int
    public var toMinute: Int
    public var timezone: CompiledExpression?
    public var from: String
    public var to: String
}

/// The frequency cap on candidate-facing messages.
public struct MachineMaxMessages: Sendable {
    public var count: Int
    public var per: Double
    public var instead: [MachineAction]
}

/// One state.
public struct MachineState: Sendable {
    public var name: String
    public var actions: [MachineAction]
    /// Event type → transitions tried in order.
    public var handlers: [String: [MachineTransition]]
    /// Event types in the order written (for graphs and diffs).
    public var handlerOrder: [String]
    public var timers: [MachineTimer]
    public var choices: [MachineChoice]
    /// The outcome label when the state is final.
    public var outcome: String?
    public var location: SourceLocation

    public var isFinal: Bool { outcome != nil }
}

/// One transition; a nil target is an internal transition.
public struct MachineTransition: Sendable {
    public var event: String
    public var target: Int?
    public var condition: CompiledExpression?
    public var actions: [MachineAction]
}

/// One `choose` branch; nil condition is `else`.
public struct MachineChoice: Sendable {
    public var condition: CompiledExpression?
    public var target: Int
}

/// When a compiled timer falls due.
public enum MachineTimerWhen: Sendable {
    case delay(Double)
    case between(min: Double, max: Double)
    case at(CompiledExpression)
}

/// One timer.
public struct MachineTimer: Sendable {
    public var when: MachineTimerWhen
    /// The timing as written (`between 36h and 48h`).
    public var label: String
    public var calendar: String?
    public var condition: CompiledExpression?
    public var actions: [MachineAction]
    public var target: Int?
    public var late: Double?
    /// `states.extended.after[0]`
    public var path: String
}

/// One action.
public struct MachineAction: Sendable {
    public var connector: String
    /// The arguments: string leaves are templates; `set`/`emit` leaves are expressions.
    public var arguments: ArgumentTree
    public var condition: CompiledExpression?
    public var id: String?
    public var retryAttempts: Int?
    public var retryBackoff: Double?
    /// The state to go to when the action fails for good.
    public var onErrorTarget: Int?
    public var audience: Audience
    public var exempt: Bool
    /// The template named by `template:`, when there is one.
    public var templateName: String?
    /// The action's place in the flow, part of its idempotency key.
    public var path: String
}

extension Machine {
    /// Every action of the machine, wherever it is written.
    public var allActions: [MachineAction] {
        var out = exits.flatMap(\.actions) + after.flatMap(\.actions) + policy.onInvalid + (policy.maxMessages?.instead ?? [])
        for state in states {
            out += state.actions
            out += state.handlers.values.flatMap { $0.flatMap(\.actions) }
            out += state.timers.flatMap(\.actions)
        }
        return out
    }

    /// The roots expressions and templates see for `data` (a canonical event's data), with the
    /// flow's `let` names evaluated in order.
    public func context(data: Value, now: Date) -> [String: Value] {
        var roots = data.objectValue ?? [:]
        for binding in lets {
            roots[binding.name] = binding.expression.evaluate(ExprContext(roots: roots, now: now))
        }
        return roots
    }
}
