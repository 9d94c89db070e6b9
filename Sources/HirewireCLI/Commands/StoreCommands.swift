import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// Opening the store and reading time arguments, for the commands that work on journeys.
enum StoreAccess {
    static let dbOption = ArgumentSpec.option("db", valueName: "PATH", help: "The SQLite store (default: store.sqlite in hirewire.yaml, else .hirewire/hirewire.db).")

    /// The store named by `--db`, hirewire.yaml or the default; it must exist already.
    /// The store file: `--db`, else `store.sqlite` of hirewire.yaml, else `.hirewire/hirewire.db`.
    /// A PostgreSQL store in hirewire.yaml is refused, not replaced by the SQLite default: this
    /// version has no PostgreSQL store, and silently writing elsewhere would lose the data.
    static func path(_ arguments: ParsedArguments, _ io: CommandIO, locator: ProjectLocator, config: ProjectConfig) throws -> String {
        if let given = arguments.option("db") { return locator.absolute(given, workingDirectory: io.workingDirectory) }
        switch config.store {
        case .sqlite(let configured)?: return (locator.root as NSString).appendingPathComponent(configured)
        case .postgres?:
            throw EnvironmentError("hirewire.yaml names a PostgreSQL store (store.postgres), which this version does not have yet; use store: {sqlite: PATH}, or pass --db PATH")
        case nil: return (locator.root as NSString).appendingPathComponent(".hirewire/hirewire.db")
        }
    }

    /// The existing store of the project the arguments name (for commands that read it).
    static func open(_ arguments: ParsedArguments, _ io: CommandIO) throws -> (locator: ProjectLocator, store: SQLiteStore) {
        let locator = try CommandSupport.locate(arguments, io)
        return (locator, try open(arguments, io, locator: locator, config: ProjectLoader(root: locator.root).load().config))
    }

    static func open(_ arguments: ParsedArguments, _ io: CommandIO, locator: ProjectLocator, config: ProjectConfig) throws -> SQLiteStore {
        let file = try path(arguments, io, locator: locator, config: config)
        guard FileManager.default.fileExists(atPath: file) else {
            throw EnvironmentError("no store at \(file): run hirewire serve first, or pass --db PATH")
        }
        if let problem = SQLiteStore.problem(withExisting: file) { throw EnvironmentError("\(problem); pass the --db of a Hirewire store") }
        do { return try SQLiteStore(path: file) } catch { throw EnvironmentError(error.description) }
    }

    /// A time argument: RFC 3339, a date (midnight UTC), or relative to now (`-2h`, `+7d`).
    static func time(_ text: String, now: Date = Date()) throws(UsageError) -> Date {
        if let t = Timestamp.parse(text) { return t }
        if let day = LocalDate.parse(text) { return Date(timeIntervalSince1970: Double(day.dayNumber) * 86400) }
        if let t = FlowTestRunner.time(text, from: now) { return t }
        throw UsageError("'\(text)' is not a time: use RFC 3339 (2026-03-02T09:00:00Z), a date (2026-03-02) or -2h / +7d")
    }

    /// Finds a journey by `jrn_…` id or `FLOW/KEY` (the active one, else the newest).
    static func journey(_ reference: String, in store: SQLiteStore) throws -> Journey {
        if reference.hasPrefix("jrn_") {
            guard let j = try store.journey(id: reference) else { throw EnvironmentError("no journey \(reference)") }
            return j
        }
        let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw UsageError("a journey is jrn_… or FLOW/KEY, not '\(reference)'") }
        guard let j = try store.activeJourney(flow: parts[0], key: parts[1]) ?? store.journeys(flow: parts[0], key: parts[1]).first else {
            throw EnvironmentError("no journey of flow '\(parts[0])' for key '\(parts[1])'")
        }
        return j
    }

    static func describe(_ timer: TimerRecord) -> String {
        switch timer.kind {
        case .flow(let path): return path
        case .timeout: return "timeout"
        case .deferred(let action, _): return "deferred \(action.connector) \(action.path)"
        }
    }
}

/// `hirewire inspect JOURNEY`
enum InspectCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "inspect", abstract: "One journey's timeline: events, transitions, timers and actions.",
        arguments: [.positional("journey", help: "jrn_… or FLOW/KEY."), StoreAccess.dbOption,
                    .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let store = try StoreAccess.open(arguments, io).store
        let journey = try StoreAccess.journey(arguments.positional("journey") ?? "", in: store)
        let timeline = try store.timeline(journey: journey.id)
        let timers = try store.timers(dueBefore: nil).filter { $0.journey == journey.id }
        let actions = try store.outboxRows(journey: journey.id)
        // Actions whose arguments could not be rendered never reached the outbox: their step
        // dead-lettered them (`dead-letters` lists them as failed:N), and they are shown as dead.
        let unrendered = timeline.filter { $0.kind == "action_failed" && $0.fields["dead_letter"] == .bool(true) }
        if arguments.option("format") == "json" {
            let dispatched: [Value] = actions.map { row in
                .object(["connector": .string(row.item.action.connector), "path": .string(row.item.action.path),
                         "idempotency_key": .string(row.item.action.idempotencyKey), "status": .string(row.status),
                         "attempts": .number(Double(row.item.attempts)), "last_error": row.lastError.map(Value.string) ?? .null])
            }
            let failed: [Value] = unrendered.map { entry in
                .object(["connector": entry.fields["connector"] ?? .null, "path": entry.fields["path"] ?? .null, "idempotency_key": .null,
                         "status": "dead", "attempts": 0, "last_error": entry.fields["reason"] ?? .null, "rendered": false])
            }
            io.out(Value.object(["journey": journey.encoded, "timeline": .array(timeline.map(\.json)),
                                 "timers": .array(timers.map(\.encoded)), "actions": .array(dispatched + failed)]).jsonString(pretty: true) + "\n")
            return 0
        }
        io.out("\(journey.id)  \(journey.flow)/\(journey.key)  version \(journey.version)\n")
        io.out("state \(journey.state)  \(journey.outcome.map { "ended: \($0)" } ?? "active")  started \(Timestamp.format(journey.startedAt))\n\n")
        for entry in timeline {
            let details = entry.fields.keys.sorted().filter { $0 != "args" }.map { "\($0)=\(Self.shown(entry.fields[$0]))" }
            io.out("\(Timestamp.format(entry.at))  \(entry.kind.padding(toLength: 16, withPad: " ", startingAt: 0)) \(details.joined(separator: " "))\n")
        }
        if !actions.isEmpty || !unrendered.isEmpty {
            io.out("\nactions:\n")
            for row in actions {
                let error = row.lastError.map { "  last error: " + Self.lastFailure($0) } ?? ""
                io.out("  \(row.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(row.item.action.connector) \(row.item.action.path)  attempts \(row.item.attempts)\(error)\n")
            }
            for entry in unrendered {
                let connector = entry.fields["connector"]?.stringValue ?? "?", path = entry.fields["path"]?.stringValue ?? "?"
                io.out("  \("dead".padding(toLength: 9, withPad: " ", startingAt: 0)) \(connector) \(path)  not rendered: \(entry.fields["reason"]?.stringValue ?? "")\n")
            }
        }
        if !timers.isEmpty {
            io.out("\npending timers:\n")
            for timer in timers { io.out("  \(Timestamp.format(timer.due))  \(StoreAccess.describe(timer))\n") }
        }
        return 0
    }

    /// A field's value on a timeline line: `null` and the empty string are spelled out, so a
    /// `bad_timezone` entry says which of the two the journey's zone was.
    /// The last attempt's failure in an error chain (`attempt 2: …`), with the verdict after it
    /// (`(gave up after 5 attempts)`): the verdict alone said nothing of why.
    static func lastFailure(_ chain: String) -> String {
        let lines = chain.split(separator: "\n").map(String.init)
        guard let last = lines.last else { return chain }
        guard last.hasPrefix("("), let attempt = lines.dropLast().last else { return last }
        return attempt + " " + last
    }

    static func shown(_ value: Value?) -> String {
        switch value {
        case nil, .null?: return "null"
        case .string("")?: return "\"\""
        case let value?: return value.displayString
        }
    }
}

/// `hirewire cancel JOURNEY`
enum CancelCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "cancel", abstract: "End a journey now (outcome cancelled), cancelling its timers.",
        arguments: [.positional("journey", help: "jrn_… or FLOW/KEY."), StoreAccess.dbOption])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io)
        let project = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        let store = try StoreAccess.open(arguments, io, locator: locator, config: project.files.config)
        let journey = try StoreAccess.journey(arguments.positional("journey") ?? "", in: store)
        guard journey.isActive else {
            io.err("\(journey.id) already ended (\(journey.outcome ?? "?"))\n")
            return 1
        }
        let engine = try JourneyEngine(project: project, store: store, env: CommandSupport.environment(for: project.files.config))
        guard let ended = try engine.cancel(journeyId: journey.id, now: Date()) else {
            io.err("\(journey.id) ended meanwhile\n")
            return 1
        }
        io.out("\(ended.id) cancelled in state \(ended.state)\n")
        return 0
    }
}

/// `hirewire timers [--due-before T]`
enum TimersCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "timers", abstract: "Pending timers, soonest first.",
        arguments: [.option("due-before", valueName: "T", help: "Only timers due before T (RFC 3339, a date, or -2h / +7d)."),
                    StoreAccess.dbOption, .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let before = try arguments.option("due-before").map { text throws(UsageError) in try StoreAccess.time(text) }
        let store = try StoreAccess.open(arguments, io).store
        let timers = try store.timers(dueBefore: before)
        if arguments.option("format") == "json" {
            io.out(Value.array(timers.map(\.encoded)).jsonString(pretty: true) + "\n")
            return 0
        }
        for timer in timers {
            io.out("\(Timestamp.format(timer.due))  \(timer.journey)  \(StoreAccess.describe(timer))\n")
        }
        io.out("\(timers.count) pending\n")
        return 0
    }
}
