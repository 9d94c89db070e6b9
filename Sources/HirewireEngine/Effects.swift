import Foundation
import HirewireLanguage

/// What the step function is asked to do.
public enum StepInput: Sendable {
    case event(CanonicalEvent)
    case timer(TimerRecord)
    /// A dispatched action failed for good (retries exhausted or permanent error).
    case actionFailed(key: String, path: String, entry: Int, reason: String)
}

/// Facts from outside the journey that a step needs, read by the shell in the same transaction.
public struct StepFacts: Sendable {
    /// When candidate-facing messages to this journey's candidate were queued recently (any flow).
    public var recentCandidateMessages: [Date]
    /// Values of the environment variables hirewire.yaml lists (`env.NAME`).
    public var env: [String: String]

    public init(recentCandidateMessages: [Date] = [], env: [String: String] = [:]) {
        self.recentCandidateMessages = recentCandidateMessages
        self.env = env
    }
}

/// One line of a journey's timeline: audit records, and what `simulate` prints.
public struct TimelineEntry: Sendable, Hashable {
    public var at: Date
    public var flow: String
    public var journey: String
    public var key: String
    /// start, transition, action, deferred, deferred_dropped, capped, timer_set, timer_fired,
    /// timer_cancelled, timer_skipped, timer_expired, window_missed, ignored, review, end, …
    public var kind: String
    public var fields: [String: Value]

    public init(at: Date, flow: String, journey: String, key: String, kind: String, fields: [String: Value]) {
        self.at = at
        self.flow = flow
        self.journey = journey
        self.key = key
        self.kind = kind
        self.fields = fields
    }

    /// The JSON object `simulate` prints.
    public var json: Value {
        var o = fields
        o["at"] = .string(Timestamp.format(at))
        o["flow"] = .string(flow)
        o["journey"] = .string(key)
        o["kind"] = .string(kind)
        return .object(o)
    }
}

/// The step's output: the journey as it now is, and what the shell must do.
public struct StepResult: Sendable {
    public var journey: Journey?
    /// Actions to put in the outbox, in dispatch order.
    public var actions: [PlannedAction] = []
    public var armTimers: [TimerRecord] = []
    /// Ids of timers to cancel.
    public var cancelTimers: [String] = []
    /// Internal events emitted by `emit` actions, to route after this step commits.
    public var emitted: [CanonicalEvent] = []
    public var timeline: [TimelineEntry] = []
    /// Candidate-facing messages queued by this step (for `max_messages` bookkeeping).
    public var candidateMessages: [Date] = []

    public init(journey: Journey? = nil) {
        self.journey = journey
    }
}
