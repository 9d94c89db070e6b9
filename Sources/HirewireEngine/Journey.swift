import Foundation
import Synchronization
import HirewireLanguage

/// A canonical event (flow language section 2).
public struct CanonicalEvent: Sendable, Hashable {
    public var id: String
    public var type: String
    public var occurredAt: Date
    public var source: String
    /// `{candidate: {...}, application: {...}, ...}`
    public var data: Value

    public init(id: String, type: String, occurredAt: Date, source: String = "test", data: Value) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.source = source
        self.data = data
    }

    /// The event as the `event` root sees it.
    public var value: Value {
        .object(["id": .string(id), "type": .string(type), "occurred_at": .timestamp(occurredAt),
                 "source": .string(source), "data": data])
    }
}

/// One run of one flow for one key: everything the step function needs to continue it.
public struct Journey: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        case active
        case ended(outcome: String)
    }

    /// `jrn_` + a unique suffix; distinct from the key.
    public var id: String
    public var flow: String
    /// The machine version the journey is pinned to.
    public var version: String
    public var key: String
    public var status: Status
    public var state: String
    public var stateEnteredAt: Date
    /// Counts state entries; actions and timers remember the entry that queued them.
    public var entry: Int
    public var startedAt: Date
    /// Merged entity data: `{candidate: {...}, offer: {...}}`.
    public var context: [String: Value] {
        didSet { contextJSON = ContextJSON() }
    }
    /// When each entity was last merged (by the event's `occurred_at`).
    public var mergedAt: [String: Date]
    /// Variables set by `set` actions.
    public var vars: [String: Value]
    /// The step sequence number (part of idempotency keys).
    public var seq: Int
    /// When the `max_messages` `instead` actions last ran (once per window).
    public var insteadAt: Date?
    /// Paths of the current state entry's timers that are no longer pending (fired, expired or
    /// skipped): leaving the state cancels only the others.
    public var doneTimers: [String] = []
    /// Candidate messages quiet hours hold back, until their release: leaving a message's scope
    /// (its state entry, or the journey) withdraws it at once, timer and `max_messages` count.
    public var held: [HeldMessage] = []
    /// Paths of the flow's journey-wide `after` timers that are no longer pending (fired, expired
    /// or skipped): when the journey ends, the others are recorded as cancelled.
    public var spentTimers: [String] = []
    /// The context's JSON once written, kept while the context stays as it is: most steps merge
    /// nothing new into it, and writing it again was a large part of storing each step.
    var contextJSON = ContextJSON()

    public var isActive: Bool { if case .active = status { return true } else { return false } }
    public var outcome: String? { if case .ended(let o) = status { return o } else { return nil } }
}

/// A candidate message held back by quiet hours: its timer, and what leaving its scope undoes.
public struct HeldMessage: Sendable, Hashable {
    /// The id of the timer that releases it.
    public var timer: String
    /// The state entry it belongs to (for `DeferScope.stateEntry`).
    public var entry: Int
    public var scope: DeferScope
    /// When it was queued (and started counting toward `max_messages`).
    public var queuedAt: Date
    /// The action's idempotency key.
    public var key: String
    public var connector: String
    public var path: String

    public init(timer: String, entry: Int, scope: DeferScope, queuedAt: Date, key: String, connector: String, path: String) {
        self.timer = timer
        self.entry = entry
        self.scope = scope
        self.queuedAt = queuedAt
        self.key = key
        self.connector = connector
        self.path = path
    }
}

/// What a timer does when it fires.
public enum TimerKind: Sendable, Hashable {
    /// A state timer (`states.S.after[i]`) or journey-wide timer (`after[i]`).
    case flow(path: String)
    /// The journey's `timeout`.
    case timeout
    /// A candidate-facing action deferred by quiet hours, released or dropped by its scope.
    case deferred(action: PlannedAction, scope: DeferScope)

    /// Whether this is an action held back by quiet hours (its release decides what happens).
    public var isDeferred: Bool { if case .deferred = self { return true } else { return false } }
}

/// When a deferred action still goes out at the end of quiet hours.
public enum DeferScope: String, Sendable, Hashable {
    /// Only while the journey is still in the state entry that queued it (state actions).
    case stateEntry = "state"
    /// While the journey is active (journey-wide timers).
    case journey
    /// Always: actions of end states and exits.
    case always

    /// Whether `journey` has left this scope of a message queued in state entry `entry`.
    public func isLeft(entry: Int, by journey: Journey) -> Bool {
        switch self {
        case .stateEntry: return !journey.isActive || journey.entry != entry
        case .journey: return !journey.isActive
        case .always: return false
        }
    }
}

/// A timer armed for a journey. Its id is deterministic: journey, entry and path.
public struct TimerRecord: Sendable, Hashable {
    public var id: String
    public var journey: String
    public var due: Date
    /// The state entry that armed it (state timers and deferred actions die with the entry).
    public var entry: Int
    /// Whether the timer belongs to a state (cancelled on leaving it) or to the whole journey.
    public var stateScoped: Bool
    public var kind: TimerKind
    /// For `between` timers: the latest moment of the window (past it: `window_missed`).
    public var windowEnd: Date?
    public var armedAt: Date
    /// For a deferred action: the flow and key of the journey that queued it, so that it can go
    /// out even if no journey was stored (an `on_invalid` action of a start sent to review).
    public var flow: String?
    public var key: String?

    public init(id: String, journey: String, due: Date, entry: Int, stateScoped: Bool, kind: TimerKind, windowEnd: Date?, armedAt: Date,
                flow: String? = nil, key: String? = nil) {
        self.id = id
        self.journey = journey
        self.due = due
        self.entry = entry
        self.stateScoped = stateScoped
        self.kind = kind
        self.windowEnd = windowEnd
        self.armedAt = armedAt
        self.flow = flow
        self.key = key
    }
}

/// An action ready for a connector: arguments rendered, key assigned.
public struct PlannedAction: Sendable, Hashable {
    public var connector: String
    public var arguments: Value
    /// journey id + step sequence + the action's path in the flow.
    public var idempotencyKey: String
    public var path: String
    public var audience: Audience
    public var template: String?
    public var retryAttempts: Int?
    public var retryBackoff: Double?
    /// The state entry that queued it (for `on_error: goto`).
    public var entry: Int
    /// Position in its `do` list's dispatch chain (actions go out one after another).
    public var order: Int
    /// The candidate the action reaches (for `max_messages`), when candidate-facing.
    public var candidate: String?

    public init(connector: String, arguments: Value, idempotencyKey: String, path: String, audience: Audience, template: String?,
                retryAttempts: Int?, retryBackoff: Double?, entry: Int, order: Int, candidate: String?) {
        self.connector = connector
        self.arguments = arguments
        self.idempotencyKey = idempotencyKey
        self.path = path
        self.audience = audience
        self.template = template
        self.retryAttempts = retryAttempts
        self.retryBackoff = retryBackoff
        self.entry = entry
        self.order = order
        self.candidate = candidate
    }

    /// The step that queued the action (`journey:seq`): a step's actions go out in `order`.
    public var chain: String {
        // Keys end in ":" + path; other keys (older stores) are a chain of their own. Compared
        // as contiguous bytes: the string views' generic comparison cost more than the rest of
        // writing the action.
        var key = idempotencyKey, tail = path
        let chain = key.withUTF8 { k in
            tail.withUTF8 { t -> String? in
                let cut = k.count - t.count - 1
                guard cut >= 0, k[cut] == UInt8(ascii: ":"), UnsafeBufferPointer(rebasing: k[(cut + 1)...]).elementsEqual(t) else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: k[..<cut]), as: UTF8.self)
            }
        }
        return chain ?? idempotencyKey
    }
}

/// The JSON text of a journey's context, filled by the first write and shared by copies of the
/// journey until its context changes (then the journey gets a fresh, empty one). Not part of the
/// journey's value: two journeys are equal whatever their caches hold.
///
/// `Sendable`: the text is only read and written inside its `Mutex`.
final class ContextJSON: Sendable, Hashable {
    private let text = Mutex<String?>(nil)

    var value: String? {
        get { text.withLock { $0 } }
        set { text.withLock { $0 = newValue } }
    }

    static func == (a: ContextJSON, b: ContextJSON) -> Bool { true }
    func hash(into hasher: inout Hasher) {}
}
