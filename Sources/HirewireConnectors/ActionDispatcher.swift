import Foundation
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore
import Synchronization

/// How often and how patiently an action is tried.
public struct RetryPolicy: Sendable {
    /// Attempts in all (the first one included).
    public var attempts = 5
    /// The first retry waits up to this long; each later one up to twice the one before.
    public var base: Double = 2
    /// No wait exceeds this.
    public var cap: Double = 900

    public init(attempts: Int = 5, base: Double = 2, cap: Double = 900) {
        self.attempts = attempts
        self.base = base
        self.cap = cap
    }

    /// Full jitter: a random wait between zero and the exponential bound for retry `n` (1-based).
    public func delay(retry n: Int, random: Double) -> Double {
        let bound = min(cap, base * pow(2, Double(max(0, n - 1))))
        return max(0.001, bound * random)
    }
}

/// Drains the outbox: claims due actions (a step's actions in order), runs them on their
/// connectors concurrently within each connector's limit and rate, and records each attempt —
/// sent, retried later with backoff and full jitter, or dead-lettered with the whole error chain
/// after the last attempt or at once for a permanent failure. A dead action is fed back to its
/// journey (`on_error: goto`) through `onDead`.
public final class ActionDispatcher: Sendable {
    let store: any OutboxStore
    private let connectorTable: Mutex<[String: any Connector]>
    let policy: RetryPolicy
    let clock: @Sendable () -> Date
    let random: @Sendable () -> Double
    let onDead: @Sendable (OutboxItem, String) -> Void
    /// Where a dead letter is announced (nil: only logged).
    let alerts: DeadLetterAlert?
    let limiter = ConnectorLimiter()
    let wakeup = Wakeup()
    /// Actions by connector and outcome, retries, latency (for /metrics).
    public let metrics = IntakeMetrics()
    /// Requests per second per connector (`connectors.NAME.rate`), when limited.
    let rates: [String: Double]

    public init(store: any OutboxStore, connectors: [any Connector], policy: RetryPolicy = RetryPolicy(), rates: [String: Double] = [:],
                clock: @escaping @Sendable () -> Date = { Date() }, random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                alerts: DeadLetterAlert? = nil, onDead: @escaping @Sendable (OutboxItem, String) -> Void = { _, _ in }) {
        self.alerts = alerts
        self.store = store
        connectorTable = Mutex(Dictionary(connectors.map { ($0.name, $0) }, uniquingKeysWith: { _, new in new }))
        self.policy = policy
        self.rates = rates
        self.clock = clock
        self.random = random
        self.onDead = onDead
        // Retries and dead letters show as 0 from the start: a scrape tells "none" from "not yet measured".
        for connector in connectors.map(\.name) {
            metrics.declare("hirewire_action_retries_total", ["connector": connector])
            metrics.declare("hirewire_dead_letters_total", ["connector": connector])
        }
    }

    /// Replaces the connectors (reload).
    public func setConnectors(_ connectors: [any Connector]) {
        connectorTable.withLock { $0 = Dictionary(connectors.map { ($0.name, $0) }, uniquingKeysWith: { _, new in new }) }
    }

    /// New actions are in the outbox: run a pass now.
    public func wake() { wakeup.signal() }

    /// Set when a batch's outcomes could not be recorded: its actions are still `sending`.
    private let unrecorded = Mutex(false)

    /// One pass: every due action is attempted once. Returns how many were attempted.
    @discardableResult
    public func runOnce(limit: Int = 256) async -> Int {
        // Actions whose outcome could not be recorded go back to pending once the store answers
        // again (nothing else of this dispatcher is in flight between passes).
        if unrecorded.withLock({ $0 }), (try? store.resetInFlightActions()) != nil {
            unrecorded.withLock { $0 = false }
        }
        var total = 0
        while true {
            let items: [OutboxItem]
            do {
                items = try store.claimActions(now: clock(), limit: limit)
            } catch {
                JSONLog.write("error", "cannot claim actions", ["error": .string(error.description)])
                return total
            }
            if items.isEmpty { return total }
            total += items.count
            // Attempts run concurrently; their outcomes are recorded together, in one transaction.
            let results = await withTaskGroup(of: (OutboxItem, AttemptOutcome, Double).self) { group in
                for item in items { group.addTask { await self.attempt(item) } }
                var all: [(OutboxItem, AttemptOutcome, Double)] = []
                for await result in group { all.append(result) }
                return all
            }
            // The journey hears of a dead action before the death is recorded. A crash between
            // the two leaves the action in flight: after the restart it is tried again, dies
            // again and the journey is told again (it acts on the first telling only). The other
            // order lost the telling, and with it the action's `on_error: goto`.
            for (item, outcome, _) in results {
                if case .dead(let error) = outcome { onDead(item, error) }
            }
            do {
                try store.recordAttempts(results.map { (item: $0.0, outcome: $0.1, latency: $0.2) }, at: clock())
            } catch {
                // Outcomes not recorded: the actions stay `sending` and are tried again (same
                // idempotency keys) on the next pass that finds the store working, or after a restart.
                JSONLog.write("error", "cannot record attempts", ["error": .string(error.description), "count": .number(Double(results.count))])
                unrecorded.withLock { $0 = true }
                return total
            }
            for (item, outcome, latency) in results { await report(item, outcome, latency) }
        }
    }

    /// Runs until the surrounding task is cancelled: after a crash, actions left mid-send are
    /// tried again (same idempotency key); then it sleeps until the next retry is due or new
    /// actions arrive.
    public func run() async {
        if let reset = try? store.resetInFlightActions(), reset > 0 {
            JSONLog.write("warn", "actions interrupted by a stop are tried again", ["count": .number(Double(reset))])
        }
        while !Task.isCancelled {
            await runOnce()
            let next = (try? store.nextActionDue()) ?? nil
            var delay = next.map { max(0, $0.timeIntervalSince(clock())) } ?? 3600
            if unrecorded.withLock({ $0 }) { delay = min(delay, 1) }
            if delay > 0 { await wakeup.wait(seconds: min(delay, 3600)) }
        }
    }

    /// One attempt on its connector (within the connector's limits).
    func attempt(_ item: OutboxItem) async -> (OutboxItem, AttemptOutcome, Double) {
        let connectorName = item.action.connector
        let started = DispatchTime.now().uptimeNanoseconds
        var outcome: AttemptOutcome
        // `plugin.action` goes to the plugin.
        let base = connectorName.split(separator: ".", maxSplits: 1).first.map(String.init) ?? connectorName
        if let connector = connectorTable.withLock({ $0[connectorName] ?? $0[base] }) {
            await limiter.acquire(connector.name, limit: connector.concurrency, rate: rates[connector.name])
            do {
                let result = try await connector.execute(item)
                outcome = .sent(result: result)
            } catch {
                outcome = failed(item, error)
            }
            await limiter.release(connector.name)
        } else {
            outcome = .dead(error: "attempt \(item.attempts + 1): no connector '\(connectorName)' is configured")
        }
        return (item, outcome, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// Metrics, logs, the journey's on_error and the alert, once an outcome is recorded.
    func report(_ item: OutboxItem, _ outcome: AttemptOutcome, _ latency: Double) async {
        let connectorName = item.action.connector
        switch outcome {
        case .sent:
            metrics.add("hirewire_actions_total", ["connector": connectorName, "outcome": "sent"])
            metrics.observe("hirewire_action_latency_seconds", ["connector": connectorName], value: latency, buckets: [0.1, 0.5, 1, 5, 30])
        case .retry(let at, let error):
            metrics.add("hirewire_action_retries_total", ["connector": connectorName])
            JSONLog.write("warn", "action failed; will retry", ["connector": .string(connectorName), "journey": .string(item.journey),
                                                                 "path": .string(item.action.path), "attempt": .number(Double(item.attempts + 1)),
                                                                 "retry_at": .string(Timestamp.format(at)), "error": .string(error)])
        case .dead(let error):
            metrics.add("hirewire_actions_total", ["connector": connectorName, "outcome": "dead"])
            metrics.add("hirewire_dead_letters_total", ["connector": connectorName])
            JSONLog.write("error", "action dead-lettered", ["connector": .string(connectorName), "journey": .string(item.journey),
                                                            "path": .string(item.action.path), "error": .string(error)])
            await alerts?.announce(item, error: error)
        }
    }

    /// A failure becomes a retry while attempts remain and the failure is retryable; the chain of
    /// earlier errors is kept in the dead letter.
    func failed(_ item: OutboxItem, _ failure: ConnectorFailure) -> AttemptOutcome {
        let attempt = item.attempts + 1
        let attempts = item.action.retryAttempts ?? policy.attempts
        let line = "attempt \(attempt): \(failure.message)"
        let chain = ((try? store.lastError(item.sequence)) ?? nil).map { $0 + "\n" + line } ?? line
        guard failure.retryable, attempt < attempts else {
            return .dead(error: failure.retryable ? chain + "\n(gave up after \(attempt) attempts)" : chain + "\n(permanent: not retried)")
        }
        var retry = policy
        if let base = item.action.retryBackoff { retry.base = base }
        return .retry(retryAt: clock().addingTimeInterval(retry.delay(retry: attempt, random: random())), error: chain)
    }
}

/// Per-connector concurrency and rate limits.
actor ConnectorLimiter {
    private var running: [String: Int] = [:]
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var lastStart: [String: Date] = [:]

    func acquire(_ name: String, limit: Int, rate: Double?) async {
        if running[name, default: 0] >= max(1, limit) {
            await withCheckedContinuation { waiting[name, default: []].append($0) }
        } else {
            running[name, default: 0] += 1
        }
        if let rate, rate > 0 {
            let gap = 1 / rate
            let now = Date()
            let next = (lastStart[name] ?? .distantPast).addingTimeInterval(gap)
            let start = max(now, next)
            lastStart[name] = start
            let wait = start.timeIntervalSince(now)
            if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        }
    }

    func release(_ name: String) {
        if var queue = waiting[name], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[name] = queue
            next.resume()
        } else {
            running[name, default: 1] -= 1
        }
    }
}

/// Announces dead letters on Slack (`connectors.slack.alert_channel`) or Teams
/// (`connectors.teams.alerts: true`) through their incoming webhooks; without either, the log
/// line is the alert. Alerts are sent directly, not through the outbox, and never retried.
public struct DeadLetterAlert: Sendable {
    let environment: ConnectorEnvironment

    public init(environment: ConnectorEnvironment) { self.environment = environment }

    func announce(_ item: OutboxItem, error: String) async {
        let lastLine = error.split(separator: "\n").dropLast().last.map(String.init) ?? error
        let text = "Hirewire: \(item.action.connector) action \(item.action.path) of journey \(item.journey) was given up — \(lastLine). "
            + "See `hirewire dead-letters`."
        if let channel = environment.setting("slack", "alert_channel") {
            await send(SlackConnector(environment: environment), ["channel": .string(channel), "text": .string(text)], about: item)
        }
        if environment.settings["teams"]?["alerts"].boolValue == true {
            await send(TeamsConnector(environment: environment), ["title": "Hirewire dead letter", "text": .string(text)], about: item)
        }
    }

    /// Sends one alert through `connector` (once; a failure is only logged).
    private func send(_ connector: any Connector, _ arguments: Value, about item: OutboxItem) async {
        let action = PlannedAction(connector: connector.name, arguments: arguments, idempotencyKey: "alert:" + item.action.idempotencyKey,
                                   path: item.action.path, audience: .team, template: nil, retryAttempts: nil, retryBackoff: nil,
                                   entry: item.action.entry, order: 0, candidate: nil)
        do {
            _ = try await connector.execute(OutboxItem(sequence: item.sequence, journey: item.journey, action: action, attempts: 0))
        } catch {
            JSONLog.write("error", "cannot send the dead-letter alert", ["connector": .string(connector.name), "error": .string(error.message)])
        }
    }
}
