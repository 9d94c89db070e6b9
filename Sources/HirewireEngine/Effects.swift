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
    public var fields: TimelineFields

    public init(at: Date, flow: String, journey: String, key: String, kind: String, fields: TimelineFields) {
        self.at = at
        self.flow = flow
        self.journey = journey
        self.key = key
        self.kind = kind
        self.fields = fields
    }

    /// The JSON object `simulate` prints.
    public var json: Value {
        var o = fields.dictionary
        o["at"] = .string(Timestamp.format(at))
        o["flow"] = .string(flow)
        o["journey"] = .string(key)
        o["kind"] = .string(kind)
        return .object(o)
    }
}

/// A candidate-facing message as `max_messages` counts it: when it was queued, and the
/// action's idempotency key (which a dropped or dead-lettered message is uncounted by).
public struct CandidateMessage: Sendable, Hashable {
    public var at: Date
    public var key: String

    public init(at: Date, key: String) {
        self.at = at
        self.key = key
    }
}

/// Removes one occurrence of each of `withdrawn` from `times` (a multiset difference). Times
/// match within a millisecond: one read back from a store row and the same one carried in a
/// timer's JSON need not be equal to the last bit.
public func subtractingOnce(_ withdrawn: [Date], from times: [Date]) -> [Date] {
    guard !withdrawn.isEmpty else { return times }
    var out = times
    for date in withdrawn {
        if let i = out.firstIndex(where: { abs($0.timeIntervalSince(date)) < 0.001 }) { out.remove(at: i) }
    }
    return out
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
    /// Candidate-facing messages queued by this step (for `max_messages` bookkeeping); one
    /// deferred by quiet hours counts from when it was queued, once.
    public var candidateMessages: [CandidateMessage] = []
    /// Deferred messages this step dropped at their release: they no longer count.
    public var withdrawnMessages: [CandidateMessage] = []

    public init(journey: Journey? = nil) {
        self.journey = journey
    }
}

/// The named fields of a timeline entry, in the order the step wrote them. A step writes
/// several entries of two to four fields each; a list of pairs costs one allocation where a
/// dictionary would hash every key, and the step is hot.
public struct TimelineFields: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// Field names and values in order (the literal's own array: no copy is made of it).
    public private(set) var pairs: [(String, Value)]

    public init(dictionaryLiteral elements: (String, Value)...) {
        pairs = elements
    }

    /// Fields from an object (entries read back from a store), keys sorted.
    public init(_ object: [String: Value]) {
        pairs = object.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The value of field `key`, if the entry has it. Setting appends or replaces.
    public subscript(key: String) -> Value? {
        get { pairs.first { $0.0 == key }?.1 }
        set {
            if let i = pairs.firstIndex(where: { $0.0 == key }) {
                if let newValue { pairs[i].1 = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public var keys: [String] { pairs.map(\.0) }
    /// The fields as an object (the last of repeated keys wins).
    public var dictionary: [String: Value] { Dictionary(pairs, uniquingKeysWith: { _, last in last }) }

    public static func == (a: TimelineFields, b: TimelineFields) -> Bool { a.dictionary == b.dictionary }
    public func hash(into hasher: inout Hasher) { hasher.combine(dictionary) }
}
