import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

// A deterministic load for crash tests: `hirewire-soak --project DIR --db PATH --iterations N`.
// Iteration i happens at a virtual time 10 minutes after iteration i-1: an offer goes out to
// application a<i>, some earlier ones are viewed or accepted, the inbox is processed and due
// timers fire. Re-running after a crash repeats the same deliveries (the inbox drops duplicates)
// and carries on. Exits 0 when done; prints "done" last.

var project = "", db = "", iterations = 300
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--project": project = args.next() ?? ""
    case "--db": db = args.next() ?? ""
    case "--iterations": iterations = Int(args.next() ?? "") ?? iterations
    default: break
    }
}
let compiled = ProjectCompiler.compile(root: project)
guard compiled.errorCount == 0 else {
    FileHandle.standardError.write(Data("project does not compile\n".utf8))
    exit(2)
}
let base = Timestamp.parse("2026-03-02T08:00:00Z") ?? Date()

func offer(_ i: Int, at: Date) -> CanonicalEvent {
    CanonicalEvent(id: "it\(i)-offer", type: "offer.extended", occurredAt: at, source: "soak", data: [
        "candidate": ["id": .string("c\(i)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
        "application": ["id": .string("a\(i)")], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
        "offer": ["id": "o1", "tier": "B", "expires_at": .string(Timestamp.format(at.addingTimeInterval(5 * 86400)))],
    ])
}

func simple(_ type: String, _ i: Int, iteration: Int, at: Date) -> CanonicalEvent {
    CanonicalEvent(id: "it\(iteration)-\(type)", type: type, occurredAt: at, source: "soak", data: ["application": ["id": .string("a\(i)")], "offer": ["id": "o1"]])
}

/// The iteration an event id belongs to (`it150-offer` → 150).
func iteration(of id: String) -> Int? {
    Int(id.dropFirst(2).prefix { $0.isNumber })
}

func time(_ i: Int) -> Date { base.addingTimeInterval(Double(i) * 600) }

do {
    let store = try SQLiteStore(path: db)
    let engine = try JourneyEngine(project: compiled, store: store, now: base)
    // After a crash, resume where the last run stopped, on the same virtual clock: iterations
    // whose events were all seen and processed are skipped.
    let pendingIteration = try store.pendingInbox(limit: 1).first.flatMap { iteration(of: $0.event.id) }
    var resumed = false
    for i in 0..<iterations {
        let now = time(i)
        var events = [offer(i, at: now)]
        if i >= 10, i % 5 == 0 { events.append(simple("offer.viewed", i - 10, iteration: i, at: now)) }
        if i >= 30, i % 3 == 0 { events.append(simple("offer.accepted", i - 30, iteration: i, at: now)) }
        let fresh = try engine.submit(events, now: now)
        if !resumed {
            let done = pendingIteration.map { i < $0 } ?? !fresh.contains(true)
            if done { continue }
            resumed = true
            // Finish the previous iteration's timers, which the crash may have cut short.
            if i > 0 { try engine.fireDueTimers(now: time(i - 1), batchSize: 7) }
        }
        // Events pile up for four iterations, then go through in batches of 3: several batches
        // per call, so a kill also lands while one batch commits and the next is being stepped.
        if i % 4 == 3 || i == iterations - 1 { try engine.processInbox(now: now, batchSize: 3) }
        try engine.fireDueTimers(now: now, batchSize: 7)
    }
    // Let everything play out: timers, then the deferrals those created (quiet hours).
    let end = base.addingTimeInterval(Double(iterations) * 600 + 40 * 86400)
    try engine.fireDueTimers(now: end)
    try engine.fireDueTimers(now: end.addingTimeInterval(86400))
    print("done")
} catch {
    FileHandle.standardError.write(Data("soak failed: \(error)\n".utf8))
    exit(1)
}
