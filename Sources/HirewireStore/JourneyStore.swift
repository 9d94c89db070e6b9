import Foundation
import HirewireEngine
import HirewireLanguage

/// One step's writes, committed together with the others of its batch.
public struct StepCommit: Sendable {
    public var result: StepResult
    /// The timer this step consumed (deleted in the same transaction).
    public var firedTimer: String?
    /// The rows' JSON, when the caller made it ahead of the commit (else the store makes it).
    public var encoded: EncodedStep?
    /// Whether the journey's actions still pending in the outbox are cancelled in the same
    /// transaction (`hirewire cancel`): none of them goes out once the cancellation is stored.
    /// One being sent at that moment is not tried again if that attempt fails.
    public var cancelPendingActions: Bool

    public init(result: StepResult, firedTimer: String? = nil, encoded: EncodedStep? = nil, cancelPendingActions: Bool = false) {
        self.result = result
        self.firedTimer = firedTimer
        self.encoded = encoded
        self.cancelPendingActions = cancelPendingActions
    }
}

/// What a store says when a step's journey is not newer than the stored one: another writer
/// (a second engine, a `hirewire` command) stepped the journey since it was read. Stores throw
/// it as `StoreError.staleJourney(id)`.
public let staleJourneyMessage = "was changed by another writer since it was read"

/// What a store says when a commit would mark an inbox event processed that is no longer
/// pending (another writer took it since it was read). Stores throw it as
/// `StoreError.inboxTaken(sequence)`, and write nothing of that commit.
public let inboxTakenMessage = "was already processed by another writer"

/// An event waiting in the inbox, in arrival order.
public struct InboxEvent: Sendable {
    public var sequence: Int64
    public var event: CanonicalEvent
    public var receivedAt: Date
}

/// Which stored deliveries to read. Each filter narrows the store's query, so a lookup finds a
/// delivery however far back it came in.
public struct DeliveryQuery: Sendable, Equatable {
    /// Only this source's deliveries (`greenhouse`, or `events` for canonical ones).
    public var source: String?
    /// Only deliveries with this event id.
    public var eventId: String?
    /// Only deliveries received at or after this moment.
    public var since: Date?
    /// Only accepted deliveries mapped to this canonical event type.
    public var mappedTo: String?
    /// At most this many.
    public var limit: Int

    public init(source: String? = nil, eventId: String? = nil, since: Date? = nil, mappedTo: String? = nil, limit: Int = 50) {
        self.source = source
        self.eventId = eventId
        self.since = since
        self.mappedTo = mappedTo
        self.limit = limit
    }
}

/// A verified webhook delivery as received: kept raw until it is mapped.
public struct Delivery: Sendable {
    public var sequence: Int64
    public var source: String
    public var eventId: String
    public var receivedAt: Date
    /// The headers kept (signature and id headers, content type).
    public var headers: [String: String]
    public var body: [UInt8]
    /// pending, accepted, ignored, review
    public var status: String
    public var detail: String
    /// Repeats of this delivery answered 200 duplicate.
    public var duplicates = 0

    public init(sequence: Int64 = 0, source: String, eventId: String, receivedAt: Date, headers: [String: String], body: [UInt8],
                status: String = "pending", detail: String = "", duplicates: Int = 0) {
        self.duplicates = duplicates
        self.sequence = sequence
        self.source = source
        self.eventId = eventId
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
        self.status = status
        self.detail = detail
    }
}

/// The reads an inbox batch makes before it is routed (see `JourneyEngine.processInbox`).
public protocol BatchReads {
    /// What a batch needs to know of its keys for one flow before it routes, in one query: the
    /// id and step sequence number of each key's active journey (no data: a caller holding the
    /// journey at that sequence need not read it again), and which keys ever had a journey
    /// (`reentry: once`, and the reason an event no journey took).
    func journeyIndex(flow: String, keys: [String]) throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>)
    /// Journeys by id, in one query (a batch's stale journeys, the journeys of due timers).
    func journeys(ids: [String]) throws(StoreError) -> [String: Journey]
    /// Candidate-facing messages queued for each of `candidates` since `since`, in one query.
    func recentMessages(candidates: [String], since: Date) throws(StoreError) -> [String: [Date]]
}

/// A read-only view of the store as it was when the view was opened: commits that land while
/// it is open (from any thread) are not in it. Used on one thread, then closed.
public protocol StoreSnapshot: BatchReads {
    /// Ends the view (its read transaction); the snapshot is not used again.
    func close()
}

/// What the engine's shell needs from durable storage. Every write of a step — journey,
/// timers, outbox, audit, the consumed timer or inbox row — lands in one transaction, and a
/// batch of steps shares it (group commit). Implementations: SQLite (default), PostgreSQL
/// (later); both must pass the contract tests in Tests/StoreTests.
public protocol JourneyStore: AnyObject, OutboxStore, BatchReads, ReportReads, ErasureStore {
    /// Appends events to the inbox; returns, per event, false when its id was seen before.
    func appendInbox(_ events: [CanonicalEvent], receivedAt: Date) throws(StoreError) -> [Bool]
    /// The oldest unprocessed inbox events.
    func pendingInbox(limit: Int) throws(StoreError) -> [InboxEvent]
    /// The oldest unprocessed inbox events after sequence `after` (those up to it are being
    /// committed by a batch in flight).
    func pendingInbox(limit: Int, after: Int64) throws(StoreError) -> [InboxEvent]
    func activeJourney(flow: String, key: String) throws(StoreError) -> Journey?
    func journey(id: String) throws(StoreError) -> Journey?
    /// Whether the flow ever had a journey for this key (for `reentry: once`).
    func hadJourney(flow: String, key: String) throws(StoreError) -> Bool
    /// A consistent read-only view for reading a batch ahead while another batch commits; nil
    /// when the store has none (the default).
    func openSnapshot() throws(StoreError) -> (any StoreSnapshot)?
    /// Commits a batch of steps and marks inbox events processed, atomically.
    /// `touched` names, per processed inbox event, the journeys (`flow/key`) its steps changed.
    func commit(_ steps: [StepCommit], processedInbox: [Int64], ignored: [TimelineEntry], touched: [Int64: [String]]) throws(StoreError)
    /// Commits the replay of review item `number` — its steps and the item's `replayed` mark —
    /// in one transaction, and only while the item is still waiting: false, with nothing written,
    /// when it was replayed or dismissed already (a second replay, or one racing it).
    func commitReplay(_ steps: [StepCommit], ignored: [TimelineEntry], resolvingReview number: Int64, at: Date) throws(StoreError) -> Bool
    /// The journeys (`flow/key`) each of these inbox events touched, by event id.
    func journeysTouched(eventIds: [String]) throws(StoreError) -> [String: [String]]
    /// Parks an inbox event that cannot be processed, with the reason, so it no longer blocks
    /// the events behind it (it stays in the store for review and replay).
    func failInbox(_ sequence: Int64, reason: String) throws(StoreError)
    /// Inbox events that could not be processed, with their reasons.
    func failedInbox() throws(StoreError) -> [(event: CanonicalEvent, reason: String)]
    /// Items waiting for a person that `query` asks for, newest first (resolved ones left out).
    func deadLetters(_ query: DeadLetterQuery) throws(StoreError) -> [DeadLetter]
    /// How many items wait for a person, of every kind.
    func deadLetterCount() throws(StoreError) -> Int
    /// Puts a dead letter back to work: a delivery is mapped again, an event processed again, a
    /// failed action queued again; a review item is marked replayed (the caller re-routes its
    /// event). Returns false when there is no such waiting item.
    func requeueDeadLetter(_ kind: DeadLetter.Kind, _ number: Int64, at: Date) throws(StoreError) -> Bool
    /// Takes a dead letter off the list without replaying it (kept, marked dismissed).
    func dismissDeadLetter(_ kind: DeadLetter.Kind, _ number: Int64, at: Date) throws(StoreError) -> Bool
    /// A stored inbox event by id (for replaying a review item).
    func inboxEvent(id: String) throws(StoreError) -> CanonicalEvent?
    /// What earlier events said about an application (entities by name), if anything.
    func applicationProfile(_ id: String) throws(StoreError) -> Value?
    /// Replaces the remembered profile of an application.
    func saveApplicationProfile(_ id: String, _ profile: Value, at: Date) throws(StoreError)
    /// Stores verified deliveries in one transaction (group commit); per delivery, false when its
    /// (source, event id) was seen before — also within the same batch.
    func appendDeliveries(_ deliveries: [Delivery]) throws(StoreError) -> [Bool]
    /// Deliveries not yet mapped, oldest first.
    func pendingDeliveries(limit: Int) throws(StoreError) -> [Delivery]
    /// Records what became of a delivery (accepted, ignored, review) and why.
    func markDelivery(_ sequence: Int64, status: String, detail: String) throws(StoreError)
    /// Writes what mapping a batch of deliveries came to in one transaction: the events into the
    /// inbox (an id seen before is dropped), the applications' profiles and each delivery's outcome.
    func commitMapping(_ outcomes: DeliveryOutcomes, at: Date) throws(StoreError)
    /// The deliveries waiting in review for `application` (marked so when they were mapped),
    /// oldest first: news about the application may now fill what they lacked.
    func reviewedDeliveries(application: String) throws(StoreError) -> [Delivery]
    /// The review items (journeys a flow refused for missing data) still waiting whose event is
    /// about `application`, oldest first.
    func waitingReviews(application: String) throws(StoreError) -> [DeadLetter]
    /// The deliveries `query` asks for, newest first (for `hirewire events`).
    func deliveries(_ query: DeliveryQuery) throws(StoreError) -> [Delivery]
    /// Records a refused request: metadata only, never its body.
    func recordRejection(at: Date, source: String, status: Int, reason: String, peer: String) throws(StoreError)
    /// Recent refused requests, newest first.
    func rejections(limit: Int) throws(StoreError) -> [(at: Date, source: String, status: Int, reason: String, peer: String)]
    /// Audit entries of one kind across all journeys, newest first (dead letters, reviews).
    func auditEntries(kind: String, limit: Int) throws(StoreError) -> [TimelineEntry]
    /// Gauges for metrics: pending timers, unprocessed inbox events, unmapped deliveries.
    func depths() throws(StoreError) -> (timers: Int, inbox: Int, deliveries: Int)
    /// Timers due at or before `time`, oldest first.
    func dueTimers(at time: Date, limit: Int) throws(StoreError) -> [TimerRecord]
    /// When the next timer falls due.
    func nextDue() throws(StoreError) -> Date?
    /// Pending timers, optionally only those due strictly before a time.
    func timers(dueBefore: Date?) throws(StoreError) -> [TimerRecord]
    /// The pending timers of one journey. Timer ids start with their journey's id and `/`
    /// (`jrn_…/3/states.extended.after[0]`, as steps name them), which a store may search by.
    func timers(journey: String) throws(StoreError) -> [TimerRecord]
    /// When candidate-facing messages to `candidate` were queued since `since`.
    func recentMessages(candidate: String, since: Date) throws(StoreError) -> [Date]
    /// A journey's audit log in order.
    func timeline(journey: String) throws(StoreError) -> [TimelineEntry]
    /// Actions in the outbox (for one journey, or all).
    func outbox(journey: String?) throws(StoreError) -> [PlannedAction]
    /// Journeys of a flow and key, newest first (for `inspect FLOW/KEY`).
    func journeys(flow: String, key: String) throws(StoreError) -> [Journey]
    /// Records a flow version's normalized source (kept while journeys use it).
    func saveVersion(flow: String, version: String, source: String, at: Date) throws(StoreError)
    /// The source of a stored flow version.
    func versionSource(flow: String, version: String) throws(StoreError) -> String?
    /// How many active journeys of a flow wait in each version and state.
    func liveStates(flow: String) throws(StoreError) -> [(version: String, state: String, count: Int)]
    /// Active journeys of a flow whose version differs from `version` (for `migrate:`).
    func activeJourneys(flow: String, notVersion version: String) throws(StoreError) -> [Journey]
}

extension JourneyStore {
    /// A snapshot for reading ahead while a commit runs, when the store can give one (nil: the
    /// engine reads ahead before the commit starts instead).
    public func openSnapshot() throws(StoreError) -> (any StoreSnapshot)? { nil }

    /// Two lookups per key; stores override this with a single query.
    public func journeyIndex(flow: String, keys: [String]) throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>) {
        var active: [String: (id: String, seq: Int)] = [:]
        var had: Set<String> = []
        for key in keys {
            if let j = try activeJourney(flow: flow, key: key) { active[key] = (j.id, j.seq) }
            if try hadJourney(flow: flow, key: key) { had.insert(key) }
        }
        return (active, had)
    }

    /// One lookup per id; stores override this with a single query.
    public func journeys(ids: [String]) throws(StoreError) -> [String: Journey] {
        var out: [String: Journey] = [:]
        for id in ids { if let j = try journey(id: id) { out[id] = j } }
        return out
    }

    /// One lookup per candidate; stores override this with a single query.
    public func recentMessages(candidates: [String], since: Date) throws(StoreError) -> [String: [Date]] {
        var out: [String: [Date]] = [:]
        for candidate in candidates { out[candidate] = try recentMessages(candidate: candidate, since: since) }
        return out
    }

    /// Commits steps without recording which journeys each event touched.
    public func commit(_ steps: [StepCommit], processedInbox: [Int64], ignored: [TimelineEntry]) throws(StoreError) {
        try commit(steps, processedInbox: processedInbox, ignored: ignored, touched: [:])
    }

    /// The newest `limit` deliveries.
    public func deliveries(limit: Int) throws(StoreError) -> [Delivery] {
        try deliveries(DeliveryQuery(limit: limit))
    }

    /// The newest `limit` waiting items of every kind.
    public func deadLetters(limit: Int) throws(StoreError) -> [DeadLetter] {
        try deadLetters(DeadLetterQuery(limit: limit))
    }

    /// The waiting item `kind:number`, or nil when there is none (never was, or no longer waits).
    public func deadLetter(_ kind: DeadLetter.Kind, _ number: Int64) throws(StoreError) -> DeadLetter? {
        try deadLetters(DeadLetterQuery(kinds: [kind], number: number, limit: 1)).first
    }

    /// Stores one verified delivery in its own transaction; false when it was seen before.
    public func appendDelivery(_ delivery: Delivery) throws(StoreError) -> Bool {
        try appendDeliveries([delivery]).first ?? false
    }
}
