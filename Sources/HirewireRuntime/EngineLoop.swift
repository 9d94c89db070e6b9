import Foundation
import Synchronization
import HirewireLanguage
import HirewireStore

/// The scheduler: processes the inbox and fires due timers, then sleeps until the next timer
/// falls due or `wake()` says new work arrived. It never polls while idle.
public final class EngineLoop: Sendable {
    public let engine: JourneyEngine
    private let clock: @Sendable () -> Date
    private let wakeup = Wakeup()
    /// Errors the loop met (it keeps going: a failed batch is retried on the next pass).
    public let onError: @Sendable (StoreError) -> Void

    /// Sources whose stored deliveries the loop maps to events first (swapped on reload).
    private let sourceTable: Mutex<[String: CompiledSource]>
    public var sources: [String: CompiledSource] { sourceTable.withLock { $0 } }

    /// Swaps in the sources of a reloaded project.
    public func setSources(_ sources: [String: CompiledSource]) { sourceTable.withLock { $0 = sources } }

    /// Runs after every pass (serve wakes the dispatcher: new actions may be in the outbox).
    let afterPass: @Sendable () -> Void

    /// Told what each retention sweep removed; nil: the loop applies no retention (tests, and
    /// hosts that keep their own). With it, a sweep runs at the first pass and then hourly.
    let onRetention: (@Sendable (RetentionReport) -> Void)?
    /// When the next retention sweep is due.
    private let retentionDue = Mutex(Date.distantPast)
    /// Time between retention sweeps.
    static let retentionInterval: TimeInterval = 3600

    public init(engine: JourneyEngine, sources: [String: CompiledSource] = [:], clock: @escaping @Sendable () -> Date = { Date() },
                onError: @escaping @Sendable (StoreError) -> Void = { _ in }, afterPass: @escaping @Sendable () -> Void = {},
                onRetention: (@Sendable (RetentionReport) -> Void)? = nil) {
        self.engine = engine
        self.afterPass = afterPass
        self.onRetention = onRetention
        sourceTable = Mutex(sources)
        self.clock = clock
        self.onError = onError
    }

    /// Inbox events one pass processes at most (two batches: one commits while the other is stepped).
    static let inboxShare = 1_000

    /// New events are in the inbox, or timers changed: run a pass now.
    public func wake() { wakeup.signal() }

    /// One pass of the scheduler: maps stored deliveries, fires the timers already due, takes a
    /// bounded share of the inbox, then fires what fell due meanwhile. Returns when the next pass
    /// is due (the next timer, or now when the inbox had more), or nil when nothing is pending.
    ///
    /// Timers due before the pass fire before the inbox events it takes, as `test` and
    /// `simulate` order them (a timer due at or before an event's moment comes first): a
    /// journey that waited for its 48h reminder while an event queued behind a busy engine sees
    /// the reminder first in production just as in its flow test.
    public func pass() throws(StoreError) -> Date? {
        // First: a pass that fails further on must not hold retention back.
        let moreToSweep = try sweepIfDue()
        let (_, news) = try engine.mapDeliveriesTellingNews(sources: sources, now: clock())
        _ = try engine.fireDueTimers(now: clock())
        // A bounded share of the inbox per pass: due timers fire between shares even
        // while events keep arriving, and a full share means go round again at once.
        let processed = try engine.processInbox(now: clock(), maxEvents: Self.inboxShare)
        // A start refused in this very pass, by an event the pass's news completes.
        if !news.isEmpty { try engine.healRefusedStarts(of: news, now: clock()) }
        let firedAt = clock()
        let fired = try engine.fireDueTimers(now: firedAt)
        var next = processed >= Self.inboxShare ? clock() : try engine.nextDue()
        if fired == 0, let due = next, StoredForm.normalized(due) <= StoredForm.normalized(firedAt), processed < Self.inboxShare {
            // Due before the pass fired, yet nothing fired: a timer row the store cannot
            // read. It is kept (someone can repair it), and it is no reason to spin.
            onError(StoreError("a timer due at \(Timestamp.format(due)) cannot be read; the next try is in a minute"))
            next = clock().addingTimeInterval(60)
        }
        // A sweep that left expired data goes on at the next pass, after this one's work.
        return moreToSweep ? clock() : next
    }

    /// Applies `retention:` when a sweep is due (see ``onRetention``); returns whether it left
    /// expired data, to be swept at the next pass.
    func sweepIfDue() throws(StoreError) -> Bool {
        guard let onRetention else { return false }
        let now = clock()
        // A sweep that fails is tried again in a minute, not an hour.
        guard retentionDue.withLock({ due in
            guard now >= due else { return false }
            due = now.addingTimeInterval(60)
            return true
        }) else { return false }
        let report = try engine.enforceRetention(now: now)
        retentionDue.withLock { $0 = report.more ? now : now.addingTimeInterval(Self.retentionInterval) }
        onRetention(report)
        return report.more
    }

    /// Runs until the surrounding task is cancelled.
    public func run() async {
        // Refused starts that news completed just before a crash or a stop are healed first.
        do { try engine.healRefusedStarts(now: clock()) } catch { onError(error) }
        while !Task.isCancelled {
            var next: Date?
            do {
                next = try pass()
                afterPass()
            } catch {
                onError(error)
                next = clock().addingTimeInterval(1)
            }
            // Idle with no timers: sleep until woken (re-checking hourly costs nothing).
            let delay = next.map { max(0, $0.timeIntervalSince(clock())) } ?? 3600
            if delay > 0 { await wakeup.wait(seconds: min(delay, 3600)) }
        }
    }
}

