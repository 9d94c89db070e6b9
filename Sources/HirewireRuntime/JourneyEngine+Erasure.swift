import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireStore

/// What erasing one candidate did.
public struct ErasureReport: Sendable {
    /// What was found for the candidate before anything changed.
    public var scope: ErasureScope
    /// The journeys that were live and ended with outcome `erased`.
    public var ended: [Journey]
    /// What the store changed or removed.
    public var counts: ErasureCounts
}

/// What one retention sweep removed.
public struct RetentionReport: Sendable, Equatable {
    /// Inbox events, raw deliveries and refusal records older than `retention.events`.
    public var events = 0
    /// What erasing the journeys that ended more than `retention.personal_data` ago changed.
    public var personalData = ErasureCounts()
    /// Whether expired data was left for the next sweep (a sweep erases a bounded amount, so
    /// that the engine is not held up).
    public var more = false

    public init() {}
}

extension JourneyEngine {
    /// The outcome of journeys ended by erasure.
    public static let erasedOutcome = "erased"

    /// Erases a candidate (`hirewire erase --candidate`): their live journeys end now with
    /// outcome `erased` (timers cancelled, pending actions withdrawn, nothing more goes out),
    /// then `beforeRemoving` runs with what was found (the host removes what it keeps outside
    /// the store, such as mail: the store's data still names the addresses then), then their
    /// personal data leaves the store (see ``ErasureStore/erase(_:at:)``); the journeys stay as
    /// anonymous rows for the counts. Running it again after an interruption finishes the work.
    public func erase(candidate: String, now: Date, beforeRemoving: (ErasureScope) -> Void = { _ in }) throws(StoreError) -> ErasureReport {
        lock.lock()
        defer { lock.unlock() }
        let now = StoredForm.normalized(now)
        let scope = try store.erasureScope(candidate: candidate)
        var ended: [Journey] = []
        for id in scope.journeys {
            if let journey = try endLocked(journeyId: id, outcome: Self.erasedOutcome, now: now) { ended.append(journey) }
        }
        beforeRemoving(scope)
        let counts = try store.erase(scope, at: now)
        return ErasureReport(scope: scope, ended: ended, counts: counts)
    }

    /// The project's `retention:` periods, in seconds.
    public var retention: (events: TimeInterval, personalData: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        return (project.files.config.retentionEvents, project.files.config.retentionPersonalData)
    }

    /// Applies the project's `retention:`: erases the personal data of journeys that ended more
    /// than `retention.personal_data` ago, and of applications all of whose data is that old
    /// (up to `maxBatches` transactions of `batchSize` journeys; ``RetentionReport/more`` says
    /// whether any were left for the next sweep), then deletes settled events older than
    /// `retention.events`. In that order: an event the purge deletes is still evidence that its
    /// application is in use. Live journeys, and the applications they need, are not touched.
    public func enforceRetention(now: Date, batchSize: Int = 500, maxBatches: Int = 20) throws(StoreError) -> RetentionReport {
        lock.lock()
        defer { lock.unlock() }
        let config = project.files.config
        var report = RetentionReport()
        let cutoff = now.addingTimeInterval(-config.retentionPersonalData)
        let scopes = try store.expiredScopes(endedBefore: cutoff, batchSize: batchSize, batches: maxBatches + 1)
        for (i, scope) in scopes.enumerated() where !scope.isEmpty {
            guard i < maxBatches else {
                report.more = true
                break
            }
            report.personalData.add(try store.erase(scope, at: now))
        }
        report.events = try store.purgeEvents(before: now.addingTimeInterval(-config.retentionEvents))
        return report
    }
}

extension ErasureCounts {
    /// Adds `other`'s counts to these.
    mutating func add(_ other: ErasureCounts) {
        journeys += other.journeys
        events += other.events
        deliveries += other.deliveries
        actions += other.actions
        auditRows += other.auditRows
        timers += other.timers
        tasks += other.tasks
        messages += other.messages
        applications += other.applications
    }
}
