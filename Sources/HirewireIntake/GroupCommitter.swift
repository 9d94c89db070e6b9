import Foundation
import HirewireStore

/// Group commit for acknowledgements: request threads hand their verified delivery over and wait;
/// one committer thread writes everything that queued up meanwhile in a single transaction and
/// then wakes every waiter with its own answer. A request is answered only after the transaction
/// holding its delivery committed (synchronous=FULL), so a 2xx always means "on disk".
///
/// Under light load a batch is one delivery and nothing waits for company; under heavy load the
/// batch grows to whatever arrived during the previous commit (at most `maxBatch`), which is what
/// turns ~5,000 fsyncs/s into tens of thousands of acknowledgements per second.
///
/// Thread rule: `queue`, `results` and `stopped` are touched only while holding `condition`; the
/// store is used only by the committer thread. Hence `@unchecked Sendable`.
public final class GroupCommitter: @unchecked Sendable {
    /// What became of one delivery.
    public enum Outcome: Sendable, Equatable {
        case stored
        case duplicate
        case failed(String)
    }

    private let store: any JourneyStore
    private let maxBatch: Int
    private let condition = NSCondition()
    private var queue: [(ticket: UInt64, delivery: Delivery)] = []
    private var results: [UInt64: Outcome] = [:]
    private var nextTicket: UInt64 = 0
    private var stopped = false
    private var thread: Thread?
    /// Batches written and deliveries in them (for metrics and the benchmark).
    public private(set) var batches = 0
    public private(set) var written = 0

    /// Starts the committer thread; call `stop()` when done with it.
    public init(store: any JourneyStore, maxBatch: Int = 500) {
        self.store = store
        self.maxBatch = maxBatch
        // The thread keeps the committer alive until `stop()`.
        let thread = Thread { self.run() }
        thread.name = "hirewire.group-commit"
        self.thread = thread
        thread.start()
    }

    /// Stores `delivery` durably and returns once its transaction committed.
    public func append(_ delivery: Delivery) -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return .failed("intake is stopping") }
        nextTicket &+= 1
        let ticket = nextTicket
        queue.append((ticket, delivery))
        condition.broadcast()
        while results[ticket] == nil { condition.wait() }
        return results.removeValue(forKey: ticket) ?? .failed("lost")
    }

    /// Writes what is queued, then stops the thread; later appends fail (the server stopped first).
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        while true {
            condition.lock()
            let done = thread == nil
            condition.unlock()
            if done { return }
            usleep(1_000)
        }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                thread = nil
                condition.unlock()
                return
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()

            let outcomes: [Outcome]
            do {
                outcomes = try store.appendDeliveries(batch.map(\.delivery)).map { $0 ? .stored : .duplicate }
            } catch {
                outcomes = Array(repeating: .failed(error.description), count: batch.count)
            }

            condition.lock()
            for (item, outcome) in zip(batch, outcomes) { results[item.ticket] = outcome }
            batches += 1
            written += batch.count
            condition.broadcast()
            condition.unlock()
        }
    }
}
