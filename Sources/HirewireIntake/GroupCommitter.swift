import Foundation
import HirewireStore

/// Group commit for acknowledgements: requests hand their verified delivery over (the HTTP
/// connection is suspended, no thread waits); one committer thread writes everything that queued
/// up meanwhile in a single transaction and then answers each request. A request is answered only after the transaction
/// holding its delivery committed (synchronous=FULL), so a 2xx always means "on disk".
///
/// Under light load a batch is one delivery and nothing waits for company; under heavy load the
/// batch grows to whatever arrived during the previous commit (at most `maxBatch`), which is what
/// turns ~5,000 fsyncs/s into tens of thousands of acknowledgements per second.
///
/// Thread rule: `queue`, `stopped`, `running` and the counters are touched only while holding
/// `condition`; the store is used only by the committer thread. Hence `@unchecked Sendable`.
public final class GroupCommitter: @unchecked Sendable {
    /// What became of one delivery.
    public enum Outcome: Sendable, Equatable {
        case stored
        case duplicate
        case failed(String)
    }

    private let store: any JourneyStore
    private let maxBatch: Int
    /// Wakes the committer; request threads each wait on their own `Waiter`, so a commit wakes
    /// exactly the requests it answered (no thundering herd across all waiting threads).
    private let condition = NSCondition()
    private var queue: [(delivery: Delivery, done: @Sendable (Outcome) -> Void)] = []
    private var stopped = false
    private var running = true
    /// Batches written and deliveries in them (for metrics and the benchmark).
    private var batchCount = 0, writtenCount = 0, busy = 0.0, cpu = 0.0
    /// CPU seconds the committer thread spent writing (busy minus waiting for the disk or a core).
    public var cpuSeconds: Double { condition.lock(); defer { condition.unlock() }; return cpu }
    /// Seconds the committer spent writing.
    public var busySeconds: Double { condition.lock(); defer { condition.unlock() }; return busy }
    public var batches: Int { condition.lock(); defer { condition.unlock() }; return batchCount }
    public var written: Int { condition.lock(); defer { condition.unlock() }; return writtenCount }

    /// Starts the committer thread; call `stop()` when done with it.
    public init(store: any JourneyStore, maxBatch: Int = 500) {
        self.store = store
        self.maxBatch = maxBatch
        // The thread keeps the committer alive until `stop()`.
        let thread = Thread { self.run() }
        thread.name = "hirewire.group-commit"
        thread.start()
    }

    /// Stores `delivery` durably and returns once its transaction committed.
    public func append(_ delivery: Delivery) -> Outcome {
        let waiter = Waiter()
        append(delivery) { outcome in
            waiter.outcome = outcome
            waiter.semaphore.signal()
        }
        waiter.semaphore.wait()
        return waiter.outcome
    }

    /// Queues `delivery`; `done` runs on the committer thread once its transaction committed
    /// (or at once, when the committer has stopped).
    public func append(_ delivery: Delivery, done: @escaping @Sendable (Outcome) -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            return done(.failed("intake is stopping"))
        }
        queue.append((delivery, done))
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// Writes what is queued, then stops the thread; later appends fail (the server stopped first).
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()

            let started = DispatchTime.now().uptimeNanoseconds
            let cpuStarted = Self.threadCPU()
            let outcomes: [Outcome]
            do {
                outcomes = try store.appendDeliveries(batch.map(\.delivery)).map { $0 ? .stored : .duplicate }
            } catch {
                outcomes = Array(repeating: .failed(error.description), count: batch.count)
            }

            condition.lock()
            busy += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            cpu += Self.threadCPU() - cpuStarted
            batchCount += 1
            writtenCount += batch.count
            condition.unlock()
            for (item, outcome) in zip(batch, outcomes) { item.done(outcome) }
        }
    }
}

extension GroupCommitter {
    /// CPU time of the calling thread, in seconds.
    static func threadCPU() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// One synchronous caller waiting for its commit: the outcome is written before the semaphore is
/// signalled and read after the wait returns.
final class Waiter: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    var outcome: GroupCommitter.Outcome = .failed("not committed")
}
