import Foundation
import HirewireEngine
import HirewireLanguage

/// An outbox action claimed for dispatch.
public struct OutboxItem: Sendable {
    public var sequence: Int64
    public var journey: String
    public var action: PlannedAction
    /// Attempts made before this one.
    public var attempts: Int

    public init(sequence: Int64, journey: String, action: PlannedAction, attempts: Int) {
        self.sequence = sequence
        self.journey = journey
        self.action = action
        self.attempts = attempts
    }
}

/// What one attempt came to.
public enum AttemptOutcome: Sendable, Equatable {
    /// Delivered; `result` is what the connector reported (message id, status…).
    case sent(result: Value)
    /// Failed for now; tried again at `retryAt`.
    case retry(retryAt: Date, error: String)
    /// Given up: a permanent failure or the last attempt; `error` holds the whole chain.
    case dead(error: String)
}

/// A recruiter task created by a journey (`task` connector).
public struct RecruiterTask: Sendable, Equatable {
    public var id: Int64
    public var journey: String
    public var title: String
    public var assignee: String?
    public var due: Date?
    public var notes: String?
    public var createdAt: Date
    public var doneAt: Date?

    public init(id: Int64 = 0, journey: String, title: String, assignee: String?, due: Date?, notes: String?, createdAt: Date, doneAt: Date? = nil) {
        self.id = id
        self.journey = journey
        self.title = title
        self.assignee = assignee
        self.due = due
        self.notes = notes
        self.createdAt = createdAt
        self.doneAt = doneAt
    }
}

/// Delivery figures of one connector over a period (metrics and `hirewire report`).
public struct ConnectorStats: Sendable, Equatable {
    public var connector: String
    public var sent = 0
    public var retried = 0
    public var dead = 0
    /// Sum of attempt latencies (seconds) of sent actions, for the mean.
    public var sentLatency = 0.0
    public init(connector: String) { self.connector = connector }
    /// Sent over sent + dead (nil when nothing finished).
    public var deliveryRate: Double? { sent + dead == 0 ? nil : Double(sent) / Double(sent + dead) }
}

/// The dispatcher's view of the store.
public protocol OutboxStore: Sendable {
    /// Due pending actions (at most `limit`) whose predecessors in their step are finished,
    /// marked `sending`.
    func claimActions(now: Date, limit: Int) throws(StoreError) -> [OutboxItem]
    /// Records attempts' outcomes on their actions and in the delivery log, in one transaction.
    func recordAttempts(_ attempts: [(item: OutboxItem, outcome: AttemptOutcome, latency: Double)], at: Date) throws(StoreError)
    /// After a crash: actions left `sending` go back to `pending` (their outcome is unknown, so
    /// they are tried again with the same idempotency key). Returns how many.
    func resetInFlightActions() throws(StoreError) -> Int
    /// The error chain recorded by the action's earlier attempts.
    func lastError(_ sequence: Int64) throws(StoreError) -> String?
    /// When the next pending action is due.
    func nextActionDue() throws(StoreError) -> Date?
    /// Per-connector figures since `since`.
    func connectorStats(since: Date) throws(StoreError) -> [ConnectorStats]
    /// Journeys started since `since`, by flow and outcome (`active` for live ones).
    func journeyOutcomes(since: Date) throws(StoreError) -> [(flow: String, outcome: String, count: Int)]
    /// Stores a recruiter task once per idempotency key; false when it existed.
    func saveTask(_ task: RecruiterTask, idempotencyKey: String) throws(StoreError) -> Bool
    func tasks(openOnly: Bool) throws(StoreError) -> [RecruiterTask]
    /// Outbox rows with their dispatch state, newest first (inspect, tests).
    func outboxRows(journey: String?) throws(StoreError) -> [(item: OutboxItem, status: String, lastError: String?, result: Value?)]
}

extension OutboxStore {
    /// Records one attempt (its own transaction).
    public func recordAttempt(_ item: OutboxItem, outcome: AttemptOutcome, at: Date, latency: Double) throws(StoreError) {
        try recordAttempts([(item, outcome, latency)], at: at)
    }
}
