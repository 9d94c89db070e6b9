import Foundation

/// A compiled flow: an immutable state machine the engine steps through. Everything is
/// resolved: state targets are indices, expressions are type-checked and compiled, templates
/// are parsed, durations are seconds.
///
/// A class: every step is handed the machine, and copying a struct of fifteen stored
/// properties retained and released each of them, several times a step. It never changes
/// after compilation, so sharing it is safe (all its properties are constants).
public final class Machine: Sendable {
    public let id: String
    /// The hash of the flow file's normalized content (`v` + 12 hex digits).
    public let version: String
    public let file: String
    public let description: String?
    public let start: MachineStart
    /// Seconds after which the journey ends with outcome `timed_out`.
    public let timeout: Double
    public let lets: [MachineLet]
    /// Paths that must be present (non-null) for a journey to start; otherwise review.
    public let require: [MachinePath]
    public let exits: [MachineExit]
    public let policy: MachinePolicy
    /// Journey-wide timers, armed at start.
    public let after: [MachineTimer]
    public let initial: Int
    public let states: [MachineState]
    /// State name → index.
    public let stateIndex: [String: Int]
    /// Old state name → new state index, for moving journeys of older versions.
    public let migrate: [String: Int]

    public init(id: String, version: String, file: String, description: String?, start: MachineStart, timeout: Double,
                lets: [MachineLet], require: [MachinePath], exits: [MachineExit], policy: MachinePolicy, after: [MachineTimer],
                initial: Int, states: [MachineState], stateIndex: [String: Int], migrate: [String: Int]) {
        self.id = id
        self.version = version
        self.file = file
        self.description = description
        self.start = start
        self.timeout = timeout
        self.lets = lets
        self.require = require
        self.exits = exits
        self.policy = policy
        self.after = after
        self.initial = initial
        self.states = states
        self.stateIndex = stateIndex
        self.migrate = migrate
    }

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
