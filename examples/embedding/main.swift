// The program docs/embedding.md describes, built as `hirewire-embed-example`:
//
//   swift run hirewire-embed-example [PROJECT_FOLDER]      (default: the current folder)
//
// It compiles the project, opens a SQLite store in a temporary folder, feeds one canonical
// offer.extended event, and drives the engine with its own clock (a virtual one here, starting
// Friday 2026-03-06 16:00 UTC) for five days, printing each action the journey queues.
import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

let root = CommandLine.arguments.dropFirst().first ?? FileManager.default.currentDirectoryPath
let project = ProjectCompiler.compile(root: root)
guard project.errorCount == 0 else { fail(project.diagnostics.map(\.description).joined(separator: "\n")) }

let folder = NSTemporaryDirectory() + "hirewire-embed-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: folder) }
guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else { fail("cannot create \(folder)") }

do {
    let store = try SQLiteStore(path: folder + "/hirewire.db")
    let engine = try JourneyEngine(project: project, store: store, env: ["ONBOARDING_URL": "https://hr.example/onboard"])
    guard var clock = Timestamp.parse("2026-03-06T16:00:00Z") else { fail("bad start time") }
    let end = clock.addingTimeInterval(5 * 86_400)
    try engine.migrate(now: clock)                       // apply migrate: maps of changed flows

    let event = CanonicalEvent(id: "evt_1", type: "offer.extended", occurredAt: clock, source: "my-ats", data: [
        "candidate": ["id": "c1", "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
        "application": ["id": "a1"], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
        "offer": ["id": "o1", "tier": "B"],
    ])
    let accepted = try engine.submit([event], now: clock)   // [false] for an id seen before
    print("submitted: \(accepted == [true] ? "new" : "duplicate")")
    try engine.processInbox(now: clock)                       // route, step, commit (batches of 500)

    // The host's clock: jump to each due timer in turn and fire what is due.
    var printed = 0
    func report() throws {
        let actions = try store.outbox(journey: nil)
        for action in actions.dropFirst(printed) {
            print(Timestamp.format(clock), action.connector, action.idempotencyKey, action.arguments["subject"].stringValue ?? action.arguments["title"].stringValue ?? "")
        }
        printed = actions.count
    }
    try report()
    while let due = try engine.nextDue(), due <= end {
        clock = due
        try engine.fireDueTimers(now: clock)
        try report()
    }
} catch {
    fail("\(error)")
}
