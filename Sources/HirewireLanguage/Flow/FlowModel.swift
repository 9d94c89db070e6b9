/// A flow file as written: every part typed and located, nothing resolved yet.
/// The compiler turns this into a ``Machine``.
public struct FlowSpec: Sendable, Hashable {
    public var id: Located<String>
    public var file: String
    public var description: String?
    public var start: StartSpec
    public var timeout: Located<Double>?
    public var lets: [LetSpec]
    public var require: [ExpressionSource]
    public var exits: [ExitSpec]
    public var policy: PolicySpec
    public var after: [TimerSpec]
    public var initial: Located<String>?
    public var states: [StateSpec]
    public var migrate: [MigrationSpec]
}

/// One `migrate:` entry: journeys of older versions in `from` move to `to`.
public struct MigrationSpec: Sendable, Hashable {
    public var from: Located<String>
    public var to: Located<String>
}

/// How a repeated start event for a key is treated.
public enum Reentry: String, Sendable, Hashable, CaseIterable {
    case ignore, restart, once
}

/// `start:`
public struct StartSpec: Sendable, Hashable {
    public var on: [Located<String>]
    public var key: ExpressionSource
    public var condition: ExpressionSource?
    public var reentry: Reentry
    public var location: SourceLocation
}

/// One `let` binding.
public struct LetSpec: Sendable, Hashable {
    public var name: Located<String>
    public var expression: ExpressionSource
}

/// One `exit` rule.
public struct ExitSpec: Sendable, Hashable {
    public var on: [Located<String>]
    public var condition: ExpressionSource?
    public var actions: [ActionSpec]
    public var outcome: Located<String>?
    public var location: SourceLocation
}

/// `policy:`
public struct PolicySpec: Sendable, Hashable {
    public var quietHours: QuietHoursSpec?
    public var maxMessages: MaxMessagesSpec?
    public var onInvalid: [ActionSpec]
    public init(quietHours: QuietHoursSpec? = nil, maxMessages: MaxMessagesSpec? = nil, onInvalid: [ActionSpec] = []) {
        self.quietHours = quietHours
        self.maxMessages = maxMessages
        self.onInvalid = onInvalid
    }
}

/// `policy.quiet_hours`: local times in a zone given by an expression.
public struct QuietHoursSpec: Sendable, Hashable {
    public var from: Located<String>
    public var to: Located<String>
    public var timezone: ExpressionSource?
    public var location: SourceLocation
}

/// `policy.max_messages`
public struct MaxMessagesSpec: Sendable, Hashable {
    public var count: Located<Int>
    public var per: Located<Double>
    public var instead: [ActionSpec]
    public var location: SourceLocation
}

/// One state.
public struct StateSpec: Sendable, Hashable {
    public var name: Located<String>
    public var actions: [ActionSpec]
    public var on: [HandlerSpec]
    public var after: [TimerSpec]
    public var choose: [ChoiceSpec]
    /// Where `choose:` was written, when it was.
    public var chooseLocation: SourceLocation?
    public var end: Located<String>?
}

/// The transitions one event type triggers in a state, tried in order.
public struct HandlerSpec: Sendable, Hashable {
    public var event: Located<String>
    public var transitions: [TransitionSpec]
}

/// One transition; no `goto` means an internal transition.
public struct TransitionSpec: Sendable, Hashable {
    public var target: Located<String>?
    public var condition: ExpressionSource?
    public var actions: [ActionSpec]
    public var location: SourceLocation
}

/// One branch of `choose`; `else` has no condition.
public struct ChoiceSpec: Sendable, Hashable {
    public var condition: ExpressionSource?
    public var target: Located<String>
    public var isElse: Bool
    public var location: SourceLocation
}

/// When a timer falls due.
public enum TimerWhen: Sendable, Hashable {
    case delay(Located<Double>)
    case between(min: Located<Double>, max: Located<Double>)
    case at(ExpressionSource)
}

/// One timer (`after` entry).
public struct TimerSpec: Sendable, Hashable {
    public var when: TimerWhen
    /// The timing as written: `delay 24h`, `between 36h and 48h`, `at offer.expires_at - 24h`.
    public var label: String
    public var calendar: Located<String>?
    public var condition: ExpressionSource?
    public var actions: [ActionSpec]
    public var target: Located<String>?
    public var late: Located<Double>?
    /// `after[0]` or `states.extended.after[1]`.
    public var path: String
    public var location: SourceLocation
}

/// Who an action reaches; policy applies to candidate-facing ones.
public enum Audience: String, Sendable, Hashable, CaseIterable {
    case candidate, team
}

/// What happens when an action fails for good.
public enum OnErrorSpec: Sendable, Hashable {
    case `continue`
    case goto(Located<String>)
}

/// One action: `CONNECTOR: ARGS` plus its sibling keys.
public struct ActionSpec: Sendable, Hashable {
    /// `email`, `task`, or `plugin.action`.
    public var connector: Located<String>
    /// The arguments as written (string values are templates, except `set`/`emit` expressions).
    public var arguments: Node
    public var condition: ExpressionSource?
    public var id: Located<String>?
    public var retryAttempts: Located<Int>?
    public var retryBackoff: Located<Double>?
    public var onError: OnErrorSpec
    public var audience: Located<String>?
    public var exempt: Bool
    /// The action's path in the flow, part of its idempotency key: `states.extended.do[0]`.
    public var path: String
    public var location: SourceLocation
}
