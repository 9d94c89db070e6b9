import Foundation
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore

/// Hirewire's engine for embedding: a compiled project over a durable store, driven by the
/// host's clock. Events go into the inbox (durable before they are acknowledged), then
/// `processInbox` routes them and commits every step's journey, timers, outbox and audit rows
/// in one transaction per batch; `fireDueTimers` does the same for timers.
///
/// ```swift
/// let project = ProjectCompiler.compile(root: "/srv/recruiting")
/// let engine = try JourneyEngine(project: project, store: SQLiteStore(path: "/srv/recruiting/.hirewire/hirewire.db"))
/// _ = try engine.submit([event], now: Date())
/// try engine.processInbox(now: Date())
/// try engine.fireDueTimers(now: Date())        // call again at engine.nextDue()
/// ```
///
/// Thread rule: one batch runs at a time (`lock`), so the engine may be shared across tasks.
public final class JourneyEngine: @unchecked Sendable {
    public let store: any JourneyStore
    /// Events by type, transitions by flow, timers fired and their lateness (for /metrics).
    public let metrics = IntakeMetrics()
    /// Appended to a journey's `FLOW/KEY` in an inbox event's journeys when all the journey did
    /// with the event was to ignore it (`hirewire events` reads it back).
    public static let ignoredMark = " (ignored)"
    /// Upper bounds of the timer lateness histogram, in seconds.
    static let lagBuckets: [Double] = [1, 5, 60, 3600]
    /// Whether each mapped delivery gets an info log line (serve turns it on).
    public var logDeliveries = false
    /// Held by every public operation: one at a time per engine.
    let lock = NSLock()
    private var machines: [Machine]
    private var versions: [String: Machine] = [:]
    /// Stored versions that failed to compile with this project (tried again after a reload).
    private var brokenVersions: Set<String> = []
    /// Journeys as this engine last stored them, by id: a batch reads only the sequence number
    /// of a running journey and decodes its row only when another writer changed it (decoding
    /// was half the cost of an event for a running journey). Bounded; emptied when full.
    private var journeyCache: [String: Journey] = [:]
    private static let journeyCacheLimit = 20_000

    private var setup: EngineSetup
    var project: CompiledProject
    private let env: [String: String]

    /// Sets up the engine and records the current version of every flow in the store.
    public init(project: CompiledProject, store: any JourneyStore, env: [String: String] = [:], now: Date = Date()) throws(StoreError) {
        self.project = project
        self.store = store
        self.env = env
        machines = project.machines.values.sorted { $0.id < $1.id }
        setup = EngineSetup(project)
        metrics.declare(histogram: "hirewire_timer_fire_lag_seconds", buckets: Self.lagBuckets)
        for machine in machines {
            versions[machine.version] = machine
            try store.saveVersion(flow: machine.id, version: machine.version, source: Self.storedSource(machine, in: project), at: now)
        }
    }

    /// Swaps in a newly compiled project (hot reload): new journeys use the new versions, running
    /// journeys stay on theirs (their versions are kept and compiled from stored source), and the
    /// `migrate:` maps of changed flows are applied. The caller validates first: a project with
    /// errors must never get here.
    ///
    /// Every new version's source is stored before any journey can start on it: a reload the
    /// store cannot record throws before anything changes, and the running project keeps serving
    /// (a journey on a version whose source was never stored could not be stepped after a restart).
    public func reload(_ newProject: CompiledProject, now: Date) throws(StoreError) {
        let newMachines = newProject.machines.values.sorted { $0.id < $1.id }
        for machine in newMachines {
            try store.saveVersion(flow: machine.id, version: machine.version, source: Self.storedSource(machine, in: newProject), at: now)
        }
        lock.lock()
        project = newProject
        setup = EngineSetup(newProject)
        machines = newMachines
        brokenVersions.removeAll()
        for machine in machines { versions[machine.version] = machine }
        lock.unlock()
        try migrate(now: now)
    }

    /// The flow ids and versions new journeys start on.
    public var currentVersions: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return Dictionary(uniqueKeysWithValues: machines.map { ($0.id, $0.version) })
    }

    /// Applies the `migrate:` maps of the current flows: live journeys of older versions whose
    /// state is listed move onto the current version. Returns how many moved.
    @discardableResult
    public func migrate(now: Date) throws(StoreError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        var commits: [StepCommit] = []
        for machine in machines where !machine.migrate.isEmpty {
            for journey in try store.activeJourneys(flow: machine.id, notVersion: machine.version) {
                guard let target = machine.migrate[journey.state] else { continue }
                // By the timers the store holds for it: what is pending is exactly what the old
                // version still owed (a journey whose version no longer compiles moves as well).
                let pending = try store.timers(journey: journey.id)
                commits.append(StepCommit(result: Step.migrate(journey, pending: pending, to: machine, target: target, setup: setup, now: now)))
            }
        }
        if !commits.isEmpty { try store.commit(commits, processedInbox: [], ignored: []) }
        return commits.count
    }

    /// Appends events to the inbox; `false` for an id seen before (a duplicate delivery).
    public func submit(_ events: [CanonicalEvent], now: Date) throws(StoreError) -> [Bool] {
        try store.appendInbox(events, receivedAt: now)
    }

    /// Routes pending inbox events in batches; returns how many were processed.
    ///
    /// Batches are pipelined over two threads: while one batch's transaction is written and
    /// flushed, the next batch is routed and stepped. The next batch reads the store as it was
    /// before the running commit started (from a snapshot, beside the commit) and sees the
    /// running batch's changes through its shell, so it computes exactly what it would after
    /// that commit; a lookup it did not read ahead (rare:
    /// events emitted by `emit`) makes it wait and route again once the commit is done. If a
    /// commit fails, the batch routed on top of it is dropped and computed again.
    ///
    /// `maxEvents` bounds one call under sustained load, so that a scheduler can fire due timers
    /// between calls instead of waiting for an inbox that never empties.
    @discardableResult
    public func processInbox(now: Date, batchSize: Int = 500, maxEvents: Int = .max) throws(StoreError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        // The step clock at the store's precision: journeys in memory then equal their stored rows.
        let now = StoredForm.normalized(now)
        var total = 0
        var running: (batch: PreparedBatch, done: PendingCommit)?
        var taken: Int64 = 0
        var takenCount = 0
        while takenCount < maxEvents {
            let pending = try store.pendingInbox(limit: min(batchSize, maxEvents - takenCount), after: taken)
            guard let last = pending.last?.sequence else { break }
            var next: PreparedBatch?
            if let (batch, done) = running {
                // Read ahead as the store is before the running commit writes, then route
                // beside it: from a snapshot opened before the commit starts, so the reading
                // overlaps the commit; without one, by reading before starting it.
                var shell = BatchShell(engine: self, overlay: batch.shell)
                let events = pending.map(\.event)
                let prefetched: Result<Void, StoreError>
                if let snapshot = (try? store.openSnapshot()) ?? nil {
                    done.start()
                    prefetched = Result { () throws(StoreError) in try shell.prefetch(events, machines: machines, now: now, reads: snapshot) }
                    snapshot.close()
                } else {
                    prefetched = Result { () throws(StoreError) in try shell.prefetch(events, machines: machines, now: now, reads: store) }
                    done.start()
                }
                if case .success = prefetched {
                    shell.offline = true
                    let routed = prepare(pending, shell: shell, now: now)
                    if !routed.shell.missed, routed.shell.error == nil { next = routed }
                }
                running = nil
                let committed = try settle(batch, done, now: now)
                total += batch.pending.count
                // What was routed on top of a failed batch is computed again (`taken` already
                // stands after the failed batch, so the next pass reads this one's events again).
                if !committed { continue }
            }
            let batch: PreparedBatch
            if let next { batch = next } else { batch = try prepareOnline(pending, now: now) }
            running = (batch, PendingCommit(store: store, batch: batch))
            taken = last
            takenCount += pending.count
        }
        if let (batch, done) = running {
            done.start()
            _ = try settle(batch, done, now: now)
            total += batch.pending.count
        }
        return total
    }

    /// Waits for a batch's commit; when it failed, retries the batch's events one at a time.
    /// Returns whether the batch committed as a whole.
    private func settle(_ batch: PreparedBatch, _ done: PendingCommit, now: Date) throws(StoreError) -> Bool {
        if case .failure = done.wait() {
            try settleOneByOne(batch.pending, now: now)
            return false
        }
        finish(batch)
        return true
    }

    /// A batch routed and stepped, ready to commit.
    fileprivate struct PreparedBatch: @unchecked Sendable {
        // @unchecked: the shell refers to the engine only to reach the store and versions; a
        // prepared batch is handed to the committer thread and read there, never changed.
        var pending: [InboxEvent]
        var shell: BatchShell
        var ignored: [TimelineEntry]
        var touched: [Int64: [String]]
    }

    /// One batch's transaction, written on a thread of its own so the next batch can be routed
    /// meanwhile.
    fileprivate final class PendingCommit: @unchecked Sendable {
        // @unchecked: `outcome` is written by the committer thread before it signals `finished`
        // and read by the engine thread only after waiting on it.
        private let store: any JourneyStore
        private let batch: PreparedBatch
        private let finished = DispatchSemaphore(value: 0)
        private var outcome: Result<Void, StoreError> = .success(())

        init(store: any JourneyStore, batch: PreparedBatch) {
            self.store = store
            self.batch = batch
        }

        func start() {
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                do throws(StoreError) {
                    try store.commit(batch.shell.commits, processedInbox: batch.pending.map(\.sequence), ignored: batch.ignored, touched: batch.touched)
                } catch {
                    outcome = .failure(error)
                }
                finished.signal()
            }
        }

        func wait() -> Result<Void, StoreError> {
            finished.wait()
            return outcome
        }
    }

    /// Routes a batch reading the store as it is now.
    private func prepareOnline(_ pending: [InboxEvent], now: Date) throws(StoreError) -> PreparedBatch {
        var shell = BatchShell(engine: self)
        try shell.prefetch(pending.map(\.event), machines: machines, now: now, reads: store)
        let batch = prepare(pending, shell: shell, now: now)
        if let error = batch.shell.error { throw error }
        return batch
    }

    /// The poison-event path: a batch that could not be committed is retried one event at a
    /// time, and the events that still fail are parked, so they never block those behind them.
    /// A failure that says nothing about the event (the disk is full, the database busy) is
    /// thrown instead: the events stay pending and the next pass tries them again.
    private func settleOneByOne(_ pending: [InboxEvent], now: Date) throws(StoreError) {
        for item in pending {
            do {
                let batch = try prepareOnline([item], now: now)
                try store.commit(batch.shell.commits, processedInbox: [item.sequence], ignored: batch.ignored, touched: batch.touched)
                finish(batch)
            } catch where error.isInboxTaken {
                // Another engine on this file processed it meanwhile: it is done, not failed.
                continue
            } catch where error.transient {
                throw error
            } catch {
                try store.failInbox(item.sequence, reason: error.description)
            }
        }
    }

    /// Metrics of a committed batch, and its journeys remembered.
    private func finish(_ batch: PreparedBatch) {
        remember(batch.shell)
        // Counted per batch, then added once per label: a counter update takes a lock and
        // builds its key, and a batch holds hundreds of events of a few types.
        var types: [String: Double] = [:]
        for item in batch.pending { types[item.event.type, default: 0] += 1 }
        for (type, count) in types { metrics.add("hirewire_events_total", ["type": type], by: count) }
        countTransitions(batch.shell.commits)
    }

    /// Whether `event` now has every field `flow` lists in `require` (false when the flow is
    /// not loaded): routing a refused start again before that only refuses it again.
    func meetsRequirements(_ event: CanonicalEvent, flow: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let machine = machines.first(where: { $0.id == flow }) else { return false }
        return Step.missingRequirements(machine, data: event.data.objectValue ?? [:]).isEmpty
    }

    /// Routes one stored event again, to `flow` only (review item `number`, replayed after its
    /// data or the flow was fixed); what it emits goes to every flow, as usual. The steps and the
    /// item's `replayed` mark are one transaction: false, and nothing written, when the item is
    /// no longer waiting.
    public func replay(_ event: CanonicalEvent, toFlow flow: String, resolvingReview number: Int64, now: Date) throws(StoreError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let now = StoredForm.normalized(now)
        guard let machine = machines.first(where: { $0.id == flow }) else { throw StoreError("flow \(flow) is not loaded (deleted or broken)") }
        var shell = BatchShell(engine: self)
        var ignored: [TimelineEntry] = []
        var (queue, skip) = Router.route(event, machines: [machine], setup: setup, now: now, shell: &shell)
        if let skip { ignored.append(skip) }
        var hops = 0
        while !queue.isEmpty, hops < 100 {
            hops += 1
            let (emitted, skip) = Router.route(queue.removeFirst(), machines: machines, setup: setup, now: now, shell: &shell)
            if let skip { ignored.append(skip) }
            queue += emitted
        }
        if let error = shell.error { throw error }
        return try store.commitReplay(shell.commits, ignored: ignored, resolvingReview: number, at: now)
    }

    /// Routes a batch of inbox events and steps their journeys; nothing is written yet.
    private func prepare(_ pending: [InboxEvent], shell: BatchShell, now: Date) -> PreparedBatch {
        var shell = shell
        var ignored: [TimelineEntry] = []
        var touched: [Int64: [String]] = [:]
        for item in pending {
            let before = shell.commits.count
            var queue = [item.event]
            var hops = 0
            while !queue.isEmpty, hops < 100 {
                hops += 1
                let next = queue.removeFirst()
                let (emitted, skip) = Router.route(next, machines: machines, setup: setup, now: now, shell: &shell)
                if let skip { ignored.append(skip) }
                queue += emitted
            }
            // Each journey the event reached, marked when all it did there was to be ignored
            // (no handler in the journey's state, a start refused by `reentry`): `events` shows it.
            var names: [String] = []
            var onlyIgnored: [Bool] = []
            for commit in shell.commits[before...] {
                guard let j = commit.result.journey else { continue }
                let name = "\(j.flow)/\(j.key)", ignored = commit.result.timeline.allSatisfy { $0.kind == "ignored" }
                if let i = names.firstIndex(of: name) { onlyIgnored[i] = onlyIgnored[i] && ignored } else { names.append(name); onlyIgnored.append(ignored) }
            }
            touched[item.sequence] = zip(names, onlyIgnored).map { $1 ? $0 + Self.ignoredMark : $0 }
            if shell.missed { break }
        }
        // The rows' JSON is made here, beside the commit of the batch before, not inside this one's.
        if !shell.missed { for i in shell.commits.indices { shell.commits[i].encoded = EncodedStep(shell.commits[i].result) } }
        return PreparedBatch(pending: pending, shell: shell, ignored: ignored, touched: touched)
    }

    private func countTransitions(_ commits: [StepCommit]) {
        var flows: [String: Double] = [:]
        for commit in commits {
            for entry in commit.result.timeline {
                if entry.kind == "transition" { flows[entry.flow, default: 0] += 1 }
                // An action whose arguments could not be rendered is dead-lettered in the step
                // itself and never reaches the dispatcher: it is counted here, as a dead action.
                if entry.kind == "action_failed", entry.fields["dead_letter"] == .bool(true), let connector = entry.fields["connector"]?.stringValue {
                    metrics.add("hirewire_actions_total", ["connector": connector, "outcome": "dead"])
                    metrics.add("hirewire_dead_letters_total", ["connector": connector])
                }
            }
        }
        for (flow, count) in flows { metrics.add("hirewire_transitions_total", ["flow": flow], by: count) }
    }

    /// Fires every timer due at `now`, in due order, in batches; returns how many fired.
    @discardableResult
    public func fireDueTimers(now: Date, batchSize: Int = 500) throws(StoreError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        // The step clock at the store's precision, as for inbox batches.
        let now = StoredForm.normalized(now)
        var total = 0
        var rounds = 0
        while true {
            let due = try store.dueTimers(at: now, limit: batchSize)
            if due.isEmpty { return total }
            // Only timers this very call armed are left (a zero delay that leads back to its own
            // state): they wait for the next call. Fired here over and over, they held the lock
            // for ever, and the server could neither take events nor stop.
            if rounds > 0, due.allSatisfy({ $0.armedAt >= now }) { return total }
            rounds += 1
            var shell = BatchShell(engine: self)
            // The batch's journeys in one query; the steps below find them in the shell.
            shell.changed = try store.journeys(ids: Array(Set(due.map(\.journey))))
            // Timers an earlier step of this batch cancelled (a held message its journey left, a
            // state timer of a state a timer moved it out of): read before that step, they must
            // not fire; their rows go, as the cancel meant.
            var cancelled: Set<String> = []
            for timer in due {
                if cancelled.contains(timer.id) {
                    shell.commits.append(StepCommit(result: StepResult(), firedTimer: timer.id))
                    continue
                }
                // The journey is gone (erased) or ended (a timer another writer left behind, or a
                // deferred message whose end-state action must still go out is the exception).
                let found = shell.journey(id: timer.journey)
                guard let journey = found, journey.isActive || timer.kind.isDeferred else {
                    // An action that always goes out still does (one of a start sent to review).
                    let released = found == nil ? Step.releaseWithoutJourney(timer, now: now) : nil
                    shell.commits.append(StepCommit(result: released ?? StepResult(), firedTimer: timer.id))
                    continue
                }
                guard let machine = shell.machine(for: journey) else {
                    // The store could not give the version's source now: nothing is decided; the
                    // timers stay due and the scheduler tries again.
                    if let error = shell.error { throw error }
                    // Its version cannot be compiled today (a template or calendar it uses was
                    // removed): the timer waits an hour and says why, until the project is fixed.
                    var held = StepResult()
                    var later = timer
                    later.due = now.addingTimeInterval(3600)
                    held.armTimers = [later]
                    held.timeline = [TimelineEntry(at: now, flow: journey.flow, journey: journey.id, key: journey.key, kind: "timer_postponed",
                                                   fields: ["reason": .string(Self.versionProblem(journey)), "timer": .string(timer.id),
                                                            "until": .string(Timestamp.format(later.due))])]
                    shell.commits.append(StepCommit(result: held))
                    continue
                }
                let result = Step.apply(machine, setup: setup, journey: journey, input: .timer(timer), now: now,
                                        facts: shell.facts(candidate: journey.context["candidate"]?["id"].stringValue))
                cancelled.formUnion(result.cancelTimers)
                shell.record(result, flow: machine.id, firedTimer: timer.id)
            }
            if let error = shell.error { throw error }
            try store.commit(shell.commits, processedInbox: [], ignored: [])
            remember(shell)
            countTransitions(shell.commits)
            for timer in due {
                metrics.observe("hirewire_timer_fire_lag_seconds", value: max(0, now.timeIntervalSince(timer.due)), buckets: Self.lagBuckets)
            }
            total += due.count
        }
    }

    /// When the next timer falls due (the scheduler sleeps until then).
    public func nextDue() throws(StoreError) -> Date? { try store.nextDue() }

    /// An action of `journeyId` was given up by the dispatcher: the journey hears of it (its
    /// `on_error: goto`, if the state entry that queued the action is still current).
    public func actionFailed(journeyId: String, action: PlannedAction, reason: String, now: Date) throws(StoreError) {
        lock.lock()
        defer { lock.unlock() }
        let now = StoredForm.normalized(now)
        try freshRead { () throws(StoreError) in
            guard let journey = try store.journey(id: journeyId) else { return }
            var shell = BatchShell(engine: self)
            guard let machine = shell.machine(for: journey) else {
                if let error = shell.error { throw error }
                return
            }
            let result = Step.apply(machine, setup: setup, journey: journey,
                                    input: .actionFailed(key: action.idempotencyKey, path: action.path, entry: action.entry, reason: reason), now: now)
            try store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
        }
    }

    /// Runs `work` (read a journey, step it, commit) again from a fresh read while another
    /// writer keeps winning the race for the journey; a few tries, then the conflict is thrown.
    private func freshRead<T>(_ work: () throws(StoreError) -> T) throws(StoreError) -> T {
        var attempt = 0
        while true {
            do {
                return try work()
            } catch where error.isStaleJourney && attempt < 4 {
                attempt += 1
            }
        }
    }

    /// Ends a journey now with outcome `cancelled`, cancelling its timers.
    public func cancel(journeyId: String, now: Date) throws(StoreError) -> Journey? {
        lock.lock()
        defer { lock.unlock() }
        return try endLocked(journeyId: journeyId, outcome: "cancelled", now: now)
    }

    /// Ends an active journey now with `outcome` (its timers cancelled, its pending actions
    /// withdrawn); nil when it is not active. The caller holds `lock`.
    func endLocked(journeyId: String, outcome: String, now: Date) throws(StoreError) -> Journey? {
        try freshRead { () throws(StoreError) -> Journey? in
            guard let journey = try store.journey(id: journeyId), journey.isActive else { return nil }
            var shell = BatchShell(engine: self)
            let result: StepResult
            if let machine = shell.machine(for: journey) {
                result = Step.end(machine, setup: setup, journey: journey, outcome: outcome, now: now)
            } else if brokenVersions.contains(journey.version) {
                // Its version no longer compiles: it still ends, and every timer it has goes.
                result = Step.endUnloaded(journey, outcome: outcome, pending: try store.timers(journey: journey.id),
                                          reason: Self.versionProblem(journey), now: now)
            } else {
                // The version's source could not be read just now (the store said so): try later.
                throw shell.error ?? StoreError("cannot load version \(journey.version) of flow \(journey.flow) now; try again", transient: true)
            }
            try store.commit([StepCommit(result: result, cancelPendingActions: true)], processedInbox: [], ignored: [])
            return result.journey
        }
    }

    /// Remembers the journeys a committed batch wrote, in the form the store gives back (the
    /// shell keeps them so); ended ones leave the cache.
    fileprivate func remember(_ shell: BatchShell) {
        if journeyCache.count > Self.journeyCacheLimit { journeyCache.removeAll(keepingCapacity: true) }
        for id in shell.recordedIds {
            let journey = shell.changed[id]
            journeyCache[id] = journey?.isActive == true ? journey : nil
        }
    }

    /// The active journeys of `flow` for `keys`: from memory when the stored sequence number
    /// matches, from `reads` (the store, or a snapshot of it) otherwise.
    fileprivate func activeJourneys(flow: String, keys: [String], reads: any BatchReads) throws(StoreError) -> (active: [String: Journey], had: Set<String>) {
        let (sequences, had) = try reads.journeyIndex(flow: flow, keys: keys)
        var out: [String: Journey] = [:]
        var stale: [String: String] = [:]
        for (key, found) in sequences {
            if let cached = journeyCache[found.id], cached.seq == found.seq { out[key] = cached } else { stale[found.id] = key }
        }
        if !stale.isEmpty {
            for (id, journey) in try reads.journeys(ids: Array(stale.keys)) {
                guard let key = stale[id] else { continue }
                out[key] = journey
                journeyCache[id] = journey
            }
        }
        return (out, had)
    }

    /// Why a journey's steps cannot run: its pinned version does not compile any more.
    static func versionProblem(_ journey: Journey) -> String {
        "version \(journey.version) of flow \(journey.flow) no longer compiles with this project (a template, calendar or "
            + "connector it uses changed or was removed); restore it, then the journey goes on"
    }

    /// The machine of a stored version, compiled from its recorded source when it is not current;
    /// nil (remembered until a reload) when that source is missing, unreadable or no longer
    /// compiles. A store that cannot answer now (busy, I/O) says nothing about the version: that
    /// is thrown (the work is tried again later), never taken for a broken version.
    fileprivate func machine(version: String, flow: String) throws(StoreError) -> Machine? {
        if let m = versions[version] { return m }
        guard !brokenVersions.contains(version) else { return nil }
        let found: String?
        do {
            found = try store.versionSource(flow: flow, version: version)
        } catch where !error.transient {
            found = nil  // an unreadable row is as good as none
        }
        guard let source = found else {
            brokenVersions.insert(version)
            return nil
        }
        guard let machine = ProjectCompiler.compileFlow(source: source, file: Self.versionFile(source, flow: flow, version: version), in: project.files) else {
            brokenVersions.insert(version)
            return nil
        }
        versions[version] = machine
        return machine
    }

    /// A flow and a journey key (hashed as a pair, not joined into a new string per lookup).
    /// The hash takes the key and the flow id's length only: a project has a handful of flows,
    /// and hashing the flow id too, for every lookup a batch makes, cost a fifth of reading ahead.
    fileprivate struct FlowKey: Hashable {
        let flow: String
        let key: String

        func hash(into hasher: inout Hasher) {
            hasher.combine(key)
            hasher.combine(flow.utf8.count)
        }
    }

    /// The batch's view: journeys changed earlier in the batch win over the store.
    fileprivate struct BatchShell: RoutingShell {
        let engine: JourneyEngine
        var commits: [StepCommit] = []
        var changed: [String: Journey] = [:]
        var active: [FlowKey: String?] = [:]
        var started: Set<FlowKey> = []
        var messages: [String: [Date]] = [:]
        /// Counted messages this batch (or the one it overlays) withdrew, by candidate: a
        /// deferred message dropped at its release.
        var withdrawn: [String: [Date]] = [:]
        var error: StoreError?
        /// Set while a commit runs beside this batch: the store must not be read now (it may or
        /// may not hold that commit yet), so a lookup not read ahead sets `missed` instead.
        var offline = false
        var missed = false
        /// What this batch itself changed (not what it inherited): the next batch's overlay.
        var recordedIds: Set<String> = []
        var recordedPairs: Set<FlowKey> = []
        var ownMessages: [String: [Date]] = [:]
        var ownWithdrawn: [String: [Date]] = [:]
        /// Keys whose `hadJourney` answer was read ahead (true ones are in `started`).
        var hadKnown: Set<FlowKey> = []
        /// Candidates' recent messages read ahead for the batch.
        var recent: [String: [Date]] = [:]
        /// Times found to read back from the store unchanged (most of a batch's are its clock).
        var exactTimes: Set<Date> = []

        /// `journey` as the store reads it back.
        static func storedForm(_ journey: Journey) -> Journey {
            Value.parseStoredJSON(journey.encodedJSON).flatMap(Journey.init(encoded:)) ?? journey
        }

        init(engine: JourneyEngine) { self.engine = engine }

        /// A shell for the batch after `previous`, whose commit has not landed yet: it sees the
        /// journeys, keys and messages `previous` changed on top of what the store says.
        init(engine: JourneyEngine, overlay previous: BatchShell) {
            self.engine = engine
            for id in previous.recordedIds { changed[id] = previous.changed[id] }
            for pair in previous.recordedPairs { active[pair] = previous.active[pair] }
            started = previous.started
            messages = previous.ownMessages
            withdrawn = previous.ownWithdrawn
        }

        func pair(_ flow: String, _ key: String) -> FlowKey { FlowKey(flow: flow, key: key) }

        mutating func journey(id: String) -> Journey? {
            if let j = changed[id] { return j }
            if offline { missed = true; return nil }
            do { return try engine.store.journey(id: id) } catch { self.error = error; return nil }
        }

        /// Reads ahead, in one query per flow, what the batch's events will ask of the store:
        /// the active journeys of their keys and whether the keys ever had journeys; then the
        /// recent messages of their candidates. Lookups the batch makes later (emitted events,
        /// candidates of existing journeys) still go to the store one by one.
        mutating func prefetch(_ events: [CanonicalEvent], machines: [Machine], now: Date, reads: any BatchReads) throws(StoreError) {
            var candidates: Set<String> = []
            for machine in machines {
                var keys: [String] = []
                var seen: Set<String> = []
                for event in events {
                    guard let key = Step.key(machine, event: event, now: now), seen.insert(key).inserted else { continue }
                    keys.append(key)
                }
                guard !keys.isEmpty else { continue }
                let (found, had) = try engine.activeJourneys(flow: machine.id, keys: keys, reads: reads)
                for key in keys {
                    // One `flow/key` per key, looked up in each table (it was made anew for each).
                    let flowKey = pair(machine.id, key)
                    let known: String??
                    if let existing = active[flowKey] {
                        known = existing
                    } else {
                        let id = found[key]?.id
                        if let journey = found[key], changed[journey.id] == nil { changed[journey.id] = journey }
                        active[flowKey] = .some(id)
                        known = .some(id)
                    }
                    // The candidates of the keys' journeys, read ahead or inherited from the batch before.
                    if case .some(.some(let id)) = known, let c = changed[id]?.context["candidate"]?["id"].stringValue { candidates.insert(c) }
                    // `reentry: once` asks whether a key ever had a journey; so does the reason given
                    // for an event no journey took (journey_ended or not_started).
                    hadKnown.insert(flowKey)
                }
                for key in had { started.insert(pair(machine.id, key)) }
            }
            for event in events { if let c = event.data["candidate"]["id"].stringValue { candidates.insert(c) } }
            recent = try reads.recentMessages(candidates: Array(candidates), since: Date(timeIntervalSince1970: 0))
        }

        mutating func activeJourney(flow: String, key: String) -> Journey? {
            if let known = active[pair(flow, key)] { return known.flatMap { changed[$0] } }
            if offline { missed = true; return nil }
            do { return try engine.store.activeJourney(flow: flow, key: key) } catch { self.error = error; return nil }
        }

        mutating func hadJourney(flow: String, key: String) -> Bool {
            if started.contains(pair(flow, key)) { return true }
            if hadKnown.contains(pair(flow, key)) { return false }
            if offline { missed = true; return false }
            do { return try engine.store.hadJourney(flow: flow, key: key) } catch { self.error = error; return false }
        }

        mutating func newJourneyId() -> String { JourneyId.make() }

        mutating func facts(candidate: String?) -> StepFacts {
            guard let candidate else { return StepFacts(env: engine.env) }
            var stored: [Date] = []
            if let known = recent[candidate] {
                stored = known
            } else if offline {
                missed = true
            } else {
                do { stored = try engine.store.recentMessages(candidate: candidate, since: Date(timeIntervalSince1970: 0)) } catch { self.error = error }
                recent[candidate] = stored
            }
            return StepFacts(recentCandidateMessages: subtractingOnce(withdrawn[candidate] ?? [], from: stored + (messages[candidate] ?? [])),
                             env: engine.env)
        }

        mutating func machine(for journey: Journey) -> Machine? {
            do {
                return try engine.machine(version: journey.version, flow: journey.flow)
            } catch {
                // Not a broken version: the batch fails with the store's error and is tried again.
                self.error = error
                return nil
            }
        }

        mutating func record(_ result: StepResult, flow: String) { record(result, flow: flow, firedTimer: nil) }

        mutating func record(_ result: StepResult, flow: String, firedTimer: String?) {
            commits.append(StepCommit(result: result, firedTimer: firedTimer))
            guard let stepped = result.journey else { return }
            // Later steps of this batch, the batch routed on top of it and the engine's cache
            // see the journey exactly as the store will give it back: a journey holding values
            // JSON has no kind for (a timestamp set in `vars`) or times finer than a millisecond
            // is passed on in its stored form, so batch boundaries and restarts change nothing.
            let journey = StoredForm.readsBackAlike(stepped, knownExact: &exactTimes) ? stepped : Self.storedForm(stepped)
            changed[journey.id] = journey
            recordedIds.insert(journey.id)
            recordedPairs.insert(pair(flow, journey.key))
            started.insert(pair(flow, journey.key))
            if journey.isActive {
                active[pair(flow, journey.key)] = .some(journey.id)
            } else if case .some(.some(let id)) = active[pair(flow, journey.key)], id == journey.id {
                active[pair(flow, journey.key)] = .some(nil)
            } else if active[pair(flow, journey.key)] == nil {
                active[pair(flow, journey.key)] = .some(nil)
            }
            if let candidate = journey.context["candidate"]?["id"].stringValue {
                if !result.candidateMessages.isEmpty {
                    messages[candidate, default: []] += result.candidateMessages.map(\.at)
                    ownMessages[candidate, default: []] += result.candidateMessages.map(\.at)
                }
                if !result.withdrawnMessages.isEmpty {
                    withdrawn[candidate, default: []] += result.withdrawnMessages.map(\.at)
                    ownWithdrawn[candidate, default: []] += result.withdrawnMessages.map(\.at)
                }
            }
        }
    }
}

/// Journey ids: `jrn_` + 26 Crockford base32 characters (a ULID: 48-bit milliseconds, 80 random bits).
public enum JourneyId {
    static let alphabet: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    /// A new id for `now`: ids made later sort after earlier ones (to the millisecond).
    public static func make(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(now: now, random: (generator.next(), generator.next()))
    }

    /// The id of `now` with the 80 random bits taken from `random` (its first word whole, the
    /// low 16 bits of the second): two draws of the system generator, not one per character.
    static func make(now: Date, random: (UInt64, UInt64)) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        return String(unsafeUninitializedCapacity: 30) { out in
            let digits = alphabet.utf8Start
            out[0] = UInt8(ascii: "j"); out[1] = UInt8(ascii: "r"); out[2] = UInt8(ascii: "n"); out[3] = UInt8(ascii: "_")
            // 48 bits of milliseconds as 10 characters, most significant first.
            var value = millis
            for i in stride(from: 13, through: 4, by: -1) {
                out[i] = digits[Int(value & 31)]
                value >>= 5
            }
            // 80 random bits as 16 characters: 12 from the first word (60 bits), 4 from the second.
            var first = random.0, second = random.1
            for i in 14..<26 {
                out[i] = digits[Int(first & 31)]
                first >>= 5
            }
            for i in 26..<30 {
                out[i] = digits[Int(second & 31)]
                second >>= 5
            }
            return 30
        }
    }
}
