import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// Resident memory of this process in MB (Linux /proc).
func residentMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

func temporaryDatabase() -> String {
    NSTemporaryDirectory() + "hirewire-bench-\(UUID().uuidString)/hirewire.db"
}

func removeDatabase(_ path: String) {
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}

/// Event in → journey, timers, outbox and audit committed in SQLite (WAL, synchronous=FULL),
/// in group-committed batches of 500. Target: 100,000 events/s.
struct EndToEndBenchmark {
    let project: CompiledProject

    func run() -> BenchResult {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        guard let engine = try? JourneyEngine(project: project, store: SQLiteStore(path: path), env: StepBenchmark.env) else {
            return BenchResult(name: "end to end", median: 0, unit: "events/s", target: 100_000, detail: "cannot open store", higherIsBetter: true)
        }
        let now = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        let journeys = (ProcessInfo.processInfo.environment["HIREWIRE_BENCH_EVENTS"].flatMap { Int($0) } ?? 30_000) / 3
        // The offer journey three times over: extended (start, three templates, timers), viewed
        // (transition, Slack), accepted (end: HTTP and Slack); each kind after all of the one before.
        var events: [CanonicalEvent] = (0..<journeys).map { StepBenchmark.offer($0, at: now) }
        // HIREWIRE_BENCH_STARTS_ONLY=1 keeps only the offer.extended events (the fire-lag load).
        let later = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_STARTS_ONLY"] == "1" ? [] : [(1, "offer.viewed"), (2, "offer.accepted")]
        for (n, type) in later {
            events += (0..<journeys).map { i in
                CanonicalEvent(id: "e\(n)-\(i)", type: type, occurredAt: now, source: "bench",
                               data: ["application": ["id": .string("a\(i)")], "offer": ["id": "o1"]])
            }
        }
        // Events arrive as intake stores them (durable inbox appends of 500), then the engine
        // works through the backlog, committing batches of 500 while it steps the next.
        var submitTime = 0.0
        for start in stride(from: 0, to: events.count, by: 500) {
            let slice = Array(events[start..<min(start + 500, events.count)])
            submitTime += seconds { _ = try? engine.submit(slice, now: now) }
        }
        var processed = 0
        let batchSize = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_BATCH"].flatMap { Int($0) } ?? 500
        let processTime = seconds { processed = (try? engine.processInbox(now: now, batchSize: batchSize)) ?? 0 }
        let total = events.count
        let rate = Double(total) / (submitTime + processTime)
        let actions = (try? engine.store.outbox(journey: nil).count) ?? 0
        return BenchResult(name: "end to end into SQLite", median: rate, unit: "events/s", target: 100_000,
                           detail: String(format: "(%d events: extended, viewed, accepted x %d journeys; %d processed, %d actions; inbox append %.0f events/s, route+step+commit %.0f events/s)",
                                          total, journeys, processed, actions, Double(total) / submitTime, Double(total) / processTime),
                           higherIsBetter: true)
    }
}

/// Pending timers at 10k, 100k and 1M: memory, the cost of finding and firing the next due
/// batch (it should stay flat), and the time from opening the store to the first timer fired.
struct TimerScaleBenchmark {
    let project: CompiledProject

    func run() -> [BenchResult] {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        guard let store = try? SQLiteStore(path: path) else { return [] }
        let base = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        var results: [BenchResult] = []
        var inserted = 0
        for size in [10_000, 100_000, 1_000_000] {
            while inserted < size {
                var result = StepResult()
                let chunk = min(10_000, size - inserted)
                result.armTimers = (inserted..<(inserted + chunk)).map { i in
                    TimerRecord(id: "t\(i)", journey: "j\(i % 50_000)", due: base.addingTimeInterval(86400 + Double(i)), entry: 1, stateScoped: true,
                                kind: .flow(path: "states.extended.after[0]"), windowEnd: nil, armedAt: base)
                }
                try? store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
                inserted += chunk
            }
            // The scheduler's work per wake-up: find the next due time and read a batch of due timers.
            var lookups: [Double] = []
            for k in 0..<50 {
                lookups.append(seconds {
                    _ = try? store.nextDue()
                    _ = try? store.dueTimers(at: base.addingTimeInterval(86400 + Double(k * 10)), limit: 500)
                })
            }
            results.append(BenchResult(name: "timers: next due + due batch at \(size)", median: median(lookups) * 1e6, unit: "µs",
                                       target: 0, detail: String(format: "(RSS %.0f MB)", residentMB())))
        }
        // Restart: open the store and the engine, fire the first due timer.
        let restart = seconds {
            guard let reopened = try? SQLiteStore(path: path),
                  let engine = try? JourneyEngine(project: project, store: reopened) else { return }
            _ = try? engine.fireDueTimers(now: base.addingTimeInterval(86400), batchSize: 1)
        }
        results.append(BenchResult(name: "restart with 1M timers to first timer fired", median: restart * 1000, unit: "ms", target: 2000,
                                   detail: String(format: "(RSS %.0f MB, target < 300 MB)", residentMB())))
        return results
    }
}

/// Timer fire lag while events arrive at 5,000/s (offer.extended, each starting a journey that
/// arms three timers): an open-loop load, and 3,000 timers falling due over the run; lag is the
/// time from a timer's due moment to the end of the batch that fired it.
struct FireLagBenchmark {
    let project: CompiledProject

    func run() -> BenchResult {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        guard let store = try? SQLiteStore(path: path), let engine = try? JourneyEngine(project: project, store: store, env: StepBenchmark.env) else {
            return BenchResult(name: "fire lag", median: 0, unit: "ms", target: 1000, detail: "cannot open store")
        }
        let start = Date()
        var seed = StepResult()
        seed.armTimers = (0..<3000).map { i in
            TimerRecord(id: "lag\(i)", journey: "none", due: start.addingTimeInterval(0.5 + Double(i) / 1000), entry: 1, stateScoped: true,
                        kind: .flow(path: "x"), windowEnd: nil, armedAt: start)
        }
        try? store.commit([StepCommit(result: seed)], processedInbox: [], ignored: [])
        var lags: [Double] = []
        // Open loop on a thread of its own, as intake is in `serve`: every 2 ms it stores every
        // event due by the wall clock at `rate`, however far behind the engine is.
        let rate = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_RATE"].flatMap(Double.init) ?? 5_000
        let producer = LoadProducer(engine: engine, start: start, rate: rate, seconds: 4)
        producer.begin()
        var processedTotal = 0
        while Date().timeIntervalSince(start) < 4 {
            let now = Date()
            // As `serve` runs it: a bounded share of the inbox, then the due timers.
            let processed = (try? engine.processInbox(now: now, maxEvents: 1_000)) ?? 0
            processedTotal += processed
            let firing = (try? store.dueTimers(at: Date(), limit: 10_000)) ?? []
            let fired = (try? engine.fireDueTimers(now: Date())) ?? 0
            let done = Date()
            lags += firing.map { done.timeIntervalSince($0.due) }
            if processed == 0, fired == 0 { Thread.sleep(forTimeInterval: 0.001) }
        }
        let sent = producer.finish()
        let elapsed = Date().timeIntervalSince(start)
        let sorted = lags.sorted()
        let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        return BenchResult(name: "timer fire lag p99 under load", median: p99 * 1000, unit: "ms", target: 1000,
                           detail: String(format: "(%d timers fired; %.0f events/s offered, %.0f events/s processed)", lags.count,
                                          Double(sent) / elapsed, Double(processedTotal) / elapsed))
    }
}

/// Stores offer events at a fixed rate from its own thread (the load the fire-lag benchmark
/// runs under). `@unchecked Sendable`: `sent` is written by the producer thread only and read
/// after `finish` has joined it.
final class LoadProducer: @unchecked Sendable {
    let engine: JourneyEngine
    let start: Date
    let rate: Double
    let seconds: Double
    private var sent = 0
    private let done = DispatchSemaphore(value: 0)

    init(engine: JourneyEngine, start: Date, rate: Double, seconds: Double) {
        self.engine = engine
        self.start = start
        self.rate = rate
        self.seconds = seconds
    }

    func begin() {
        Thread.detachNewThread { [self] in
            while Date().timeIntervalSince(start) < seconds {
                let tick = Date()
                let due = Int(tick.timeIntervalSince(start) * rate) - sent
                if due > 0 {
                    // Offers open for two weeks: their journeys' own timers are not due during the run.
                    let expires = Timestamp.format(tick.addingTimeInterval(14 * 86400))
                    let events = (0..<due).map { StepBenchmark.offer(1_000_000 + sent + $0, at: tick, expires: expires) }
                    sent += events.count
                    _ = try? engine.submit(events, now: tick)
                }
                Thread.sleep(forTimeInterval: 0.002)
            }
            done.signal()
        }
    }

    /// Waits for the producer to stop; returns how many events it stored.
    func finish() -> Int {
        done.wait()
        return sent
    }
}
