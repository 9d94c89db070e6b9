import Foundation
import HirewireEngine
import HirewireLanguage

/// `hirewire simulate FLOW… --events FILE.jsonl [--until +7d]`
enum SimulateCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "simulate",
        abstract: "Feed canonical events to flows on a virtual clock and print the timeline as JSON lines.",
        discussion: """
            Each line of the events file is a strict JSON object {"at": …, "type": …, "data": {…}} (a \
            mistake is reported at its line and column); "at" is RFC 3339, or +DURATION relative to the \
            first event (the first line's "at" must be a time: the run must not depend on the wall clock). Connectors are \
            recorded, not called. The clock runs on until --until: a duration after the last event, or a \
            time or date at which it stops (events after it are not fed). By default it runs until every \
            timer has fired, at most each flow's timeout.
            """,
        arguments: [
            .positional("flows", help: "Flow files or ids.", variadic: true),
            .option("events", valueName: "FILE", help: "Canonical events, one JSON object per line.", required: true),
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
        // Read as a stream: `--events <(…)` is a pipe, which has no size to read up front.
        guard let handle = FileHandle(forReadingAtPath: full), let bytes = try? handle.readToEnd() ?? Data(),
              let text = String(data: bytes, encoding: .utf8)
        else { throw EnvironmentError("cannot read \(eventsPath)") }
        var events: [(at: Date, event: CanonicalEvent)] = []
        var first: Date?
        // "\r\n" is one Character: CRLF files split on it too.
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            // Strict JSON with places: a mistake is reported at its line and column.
            func located(_ location: SourceLocation) -> String { "\(eventsPath):\(n + 1):\(location.column)" }
            let node: Node
            do {
                node = try YAMLLoader.load(String(line), file: eventsPath, json: true)
            } catch {
                // A pretty-printed file spreads one object over lines: say what a line must be.
                let spread = trimmed == "{" || trimmed == "[" || trimmed.hasPrefix("\"") || trimmed == "}" || trimmed == "},"
                throw EnvironmentError("\(located(error.location)): \(error.message)"
                                       + (spread ? " (each line holds one whole event: a JSON object on a single line, not a pretty-printed file)" : ""))
            }
            guard case .object(let o) = node.toValue() else {
                throw EnvironmentError("\(located(node.location)): a line is one JSON object {\"at\": …, \"type\": …, \"data\": {…}}")
            }
            let column = { (key: String) in located(node[key]?.location ?? node.location) }
            let known = ["at", "type", "data", "id", "source"]
            if let stray = node.pairs?.first(where: { !known.contains($0.name) }) {
                throw EnvironmentError("\(located(stray.key.location)): unknown key '\(stray.name)'\(Suggest.hint(for: stray.name, in: known)) (a line has at, type, data, and optionally id and source)")
            }
            guard let type = o["type"]?.stringValue else { throw EnvironmentError("\(column("type")): missing \"type\"") }
            // As in flow tests: a misspelled type would only show as a journey that never starts.
            if let problem = EventCatalog.v1.problem(withType: type) { throw EnvironmentError("\(column("type")): \(problem)") }
            // Every line says when: a line without "at" was stamped with the wall clock, and the
            // timeline changed from run to run.
            guard let atText = o["at"]?.stringValue else {
                throw EnvironmentError("\(located(node.location)): missing \"at\" (RFC 3339, or +DURATION after the first event)")
            }
            let at: Date
            if let base = first {
                guard let time = FlowTestRunner.time(atText, from: base) else {
                    throw EnvironmentError("\(column("at")): \"at\": \(atText) is not RFC 3339 or +DURATION")
                }
                at = time
            } else {
                // The first line starts the clock, so it is a time: counted from nothing, it was
                // counted from the wall clock and the timeline changed from run to run.
                guard let time = Timestamp.parse(atText) else {
                    throw EnvironmentError("\(column("at")): the first line's \"at\" must be a time such as 2026-03-02T09:00:00Z (later lines may be +DURATION after it), not \(atText)")
                }
                at = time
                first = time
            }
            let data = EventData.unwrap(o["data"] ?? .object([:]))
            guard case .object = data else { throw EnvironmentError("\(column("data")): \"data\" is an object of entities, not \(data.kindName)") }
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
            // Before the first event nothing would run: an empty timeline that looks like a result.
            guard horizon >= start else {
                throw UsageError("--until \(until) is before the first event (\(Timestamp.format(start))): give a later time, or +DURATION after the last event")
            }
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
