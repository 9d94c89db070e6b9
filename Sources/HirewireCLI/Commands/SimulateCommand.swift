import Foundation
import HirewireEngine
import HirewireLanguage

/// `hirewire simulate FLOW… --events FILE.jsonl [--until +7d]`
enum SimulateCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "simulate",
        abstract: "Feed canonical events to flows on a virtual clock and print the timeline as JSON lines.",
        discussion: """
            Each line of the events file is {"at": …, "type": …, "data": …}; "at" is RFC 3339, or +DURATION \
            relative to the first event (relative to now when the first is relative too). Connectors are \
            recorded, not called. The clock runs on until --until: a duration after the last event, or a \
            time or date at which it stops (events after it are not fed). By default it runs until every \
            timer has fired, at most each flow's timeout.
            """,
        arguments: [
            .positional("flows", help: "Flow files or ids.", variadic: true),
            .option("events", valueName: "FILE", help: "Canonical events, one JSON object per line."),
            .option("until", valueName: "T", help: "How long after the last event to keep the clock running (+7d), or when to stop: RFC 3339 or a date (2026-03-09, its midnight UTC)."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let flows = arguments.positionalList("flows")
        guard !flows.isEmpty else { throw UsageError("missing argument <flows>") }
        guard let eventsPath = arguments.option("events") else { throw UsageError("missing --events FILE") }
        var machines: [Machine] = []
        for flow in flows { machines.append(try FlowLookup.find(flow, arguments: arguments, io: io)) }
        let locator = try CommandSupport.locate(arguments, io, requireProject: false)
        let compiled = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        let full = locator.absolute(eventsPath, workingDirectory: io.workingDirectory)
        guard let text = try? String(contentsOfFile: full, encoding: .utf8) else { throw EnvironmentError("cannot read \(eventsPath)") }
        var events: [(at: Date, event: CanonicalEvent)] = []
        var first: Date?
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard case .object(let o) = (try? Value.parseJSON(trimmed)) ?? .null else {
                throw EnvironmentError("\(eventsPath):\(n + 1): not a JSON object")
            }
            guard let type = o["type"]?.stringValue else { throw EnvironmentError("\(eventsPath):\(n + 1): missing \"type\"") }
            // As in flow tests: a misspelled type would only show as a journey that never starts.
            if let problem = EventCatalog.v1.problem(withType: type) { throw EnvironmentError("\(eventsPath):\(n + 1): \(problem)") }
            let atText = o["at"]?.stringValue ?? "+0s"
            let base = first ?? Date()
            guard let at = FlowTestRunner.time(atText, from: base) else {
                throw EnvironmentError("\(eventsPath):\(n + 1): \"at\": \(atText) is not RFC 3339 or +DURATION")
            }
            if first == nil { first = at }
            let data = EventData.unwrap(o["data"] ?? .object([:]))
            events.append((at, CanonicalEvent(id: o["id"]?.stringValue ?? "sim_\(n + 1)", type: type, occurredAt: at,
                                              source: o["source"]?.stringValue ?? "simulate", data: data)))
        }
        guard let start = events.map(\.at).min() else { throw EnvironmentError("\(eventsPath) holds no events") }
        var simulation = Simulation(machines: machines, setup: EngineSetup(compiled), clock: start,
                                    env: CommandSupport.environment(for: compiled.files.config))
        let last = events.map(\.at).max() ?? start
        let horizon: Date
        if let until = arguments.option("until") {
            horizon = try StoreAccess.time(until, now: last)
        } else {
            horizon = last.addingTimeInterval((machines.map(\.timeout).max() ?? 90 * 86400) + 1)
        }
        // The clock stops at the horizon: events after an earlier --until are not fed either.
        for (at, event) in events.sorted(by: { $0.at < $1.at }) where at <= horizon {
            simulation.advance(to: at)
            simulation.send(event)
        }
        simulation.advance(to: horizon)
        for entry in simulation.timeline { io.out(entry.json.jsonString() + "\n") }
        return 0
    }
}
