import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HirewireIntake
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// `hirewire sign --scheme S --secret K [--id ID] [--timestamp T] FILE`
enum SignCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "sign", abstract: "Print the signature header(s) a sender would attach to FILE.",
        discussion: "Lever signs inside the body (its signature field over token + triggeredAt): for --scheme lever the signed body is printed.",
        arguments: [
            .positional("file", help: "The body to sign, byte for byte."),
            .option("scheme", help: "Signature scheme.", allowed: ["standard-webhooks", "hmac-sha256", "greenhouse", "ashby", "workable", "lever"], required: true),
            .option("secret", valueName: "K", help: "The secret (whsec_… for standard-webhooks).", required: true),
            .option("id", help: "The message id (standard-webhooks; default: a new one)."),
            .option("timestamp", valueName: "T", help: "Unix seconds or RFC 3339 (default: now)."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        guard let scheme = arguments.option("scheme") else { throw UsageError("missing --scheme") }
        guard let secret = arguments.option("secret") else { throw UsageError("missing --secret") }
        guard let file = arguments.positional("file") else { throw UsageError("missing argument <file>") }
        let path = file.hasPrefix("/") ? file : (io.workingDirectory as NSString).appendingPathComponent(file)
        guard let body = FileManager.default.contents(atPath: path) else { throw EnvironmentError("cannot read \(file)") }
        var at = Date()
        if let t = arguments.option("timestamp") {
            // Whole Unix seconds, as signature headers carry them (`nan` or `1e300` crashed).
            if t.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }), Double(t) != nil {
                guard let seconds = Int64(t), seconds >= 0, seconds < 253_402_300_800 else {
                    throw UsageError("--timestamp takes whole Unix seconds from 0 to 253402300799, or an RFC 3339 time; not '\(t)'")
                }
                at = Date(timeIntervalSince1970: TimeInterval(seconds))
            } else {
                at = try StoreAccess.time(t)
            }
        }
        if scheme == "standard-webhooks", StandardWebhooks.key(secret) == nil {
            throw UsageError("a standard-webhooks secret is base64, usually whsec_…")
        }
        let signature = Intake.scheme(["scheme": .string(scheme), "secret": .string(secret)], env: [:])
        if scheme == "lever" {
            let signed = signature.signedBody([UInt8](body))
            guard signed != [UInt8](body) else { throw UsageError("a Lever body is a JSON object with a token field") }
            io.out(String(decoding: signed, as: UTF8.self) + "\n")
            return 0
        }
        let id = arguments.option("id") ?? "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        for (name, value) in signature.headers(body: [UInt8](body), id: id, timestamp: at) { io.out("\(name): \(value)\n") }
        return 0
    }
}

/// `hirewire send SOURCE FILE [--url URL]`
enum SendCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "send", abstract: "Sign FILE with SOURCE's scheme and secret and POST it; print the status and body.",
        discussion: "SOURCE is a file in sources/ (POST /hooks/SOURCE), or 'events' for a canonical event (POST /events with the bearer token).",
        arguments: [
            .positional("source", help: "A source name, or events."),
            .positional("file", help: "The payload."),
            .option("url", help: "Where to send: a full URL, or a server's address to which /hooks/SOURCE (or /events) is added (default: the local server)."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io)
        let project = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        guard let name = arguments.positional("source"), let file = arguments.positional("file") else { throw UsageError("send takes SOURCE FILE") }
        guard var body = FileManager.default.contents(atPath: locator.absolute(file, workingDirectory: io.workingDirectory)) else {
            throw EnvironmentError("cannot read \(file)")
        }
        let env = ProcessInfo.processInfo.environment
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        let path: String
        if name == "events" {
            let reference = project.files.config.server.eventsToken ?? "env.HIREWIRE_EVENTS_TOKEN"
            let token = reference.hasPrefix("env.") ? env[String(reference.dropFirst(4))] : reference
            guard let token, !token.isEmpty else { throw EnvironmentError("set \(reference.replacingOccurrences(of: "env.", with: "")) to the server's events token") }
            headers.append(("Authorization", "Bearer \(token)"))
            path = "/events"
        } else {
            guard let source = project.sources[name] else {
                throw EnvironmentError("no source '\(name)'\(Suggest.hint(for: name, in: project.sources.keys.sorted())) (sources/NAME.yaml)")
            }
            if let missing = Intake.unsetSecrets(source.signature, env: env) {
                throw EnvironmentError("set \(missing.joined(separator: " or ")): sources/\(name).yaml signs with it")
            }
            let scheme = Intake.scheme(source.signature, env: env)
            let id = "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            body = Data(scheme.signedBody([UInt8](body)))
            headers += scheme.headers(body: [UInt8](body), id: id, timestamp: Date())
            path = "/hooks/\(name)"
        }
        var target = arguments.option("url") ?? "http://127.0.0.1:\(project.files.config.server.port)\(path)"
        guard var url = URL(string: target), url.scheme != nil, url.host != nil else { throw UsageError("--url is not a URL such as http://127.0.0.1:8080") }
        // A server's address alone (`--url http://host:8080`) means its route for SOURCE.
        if url.path.isEmpty || url.path == "/" {
            target = target.hasSuffix("/") ? String(target.dropLast()) + path : target + path
            guard let full = URL(string: target) else { throw UsageError("--url is not a URL such as http://127.0.0.1:8080") }
            url = full
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            io.out("\(status) \(String(decoding: data, as: UTF8.self))\n")
            return (200..<300).contains(status) ? 0 : 1
        } catch {
            throw EnvironmentError("cannot reach \(target): \(error.localizedDescription)")
        }
    }
}

/// `hirewire events [--source S] [--limit N] [--rejected] [--format json]`
enum EventsCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "events", abstract: "What came in: each stored delivery with its status; --rejected lists refused requests.",
        discussion: "events show EVENT_ID prints a delivery's payload with names, emails, phones and compensation masked (--unmask shows them).",
        arguments: [
            .positional("show", help: "'show' followed by an event id.", required: false, variadic: true),
            .flag("unmask", help: "With show: print personal fields as they are."),
            .option("source", help: "Only this source."),
            .option("type", help: "Only deliveries mapped to this event type."),
            .option("since", help: "Only what came in since T (RFC 3339, a date, or -2h / -7d)."),
            .option("limit", short: "n", help: "How many (default 50)."),
            .flag("rejected", help: "Refused requests (metadata only; bodies are never stored)."),
            StoreAccess.dbOption,
            .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text"),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let store = try StoreAccess.open(arguments, io).store
        let limit = try arguments.intOption("limit") ?? 50
        let json = arguments.option("format") == "json"
        let words = arguments.positionalList("show")
        if !words.isEmpty {
            guard words.count == 2, words[0] == "show" else { throw UsageError("use: events show EVENT_ID") }
            guard let delivery = try store.deliveries(DeliveryQuery(source: arguments.option("source"), eventId: words[1], limit: 1)).first else {
                throw EnvironmentError("no delivery with event id \(words[1])")
            }
            let body = (try? Value.parseJSON(Data(delivery.body))) ?? .string(String(decoding: delivery.body, as: UTF8.self))
            let shown = arguments.flag("unmask") ? body : PersonalData.mask(body)
            if json {
                io.out(Value.object(["source": .string(delivery.source), "event_id": .string(delivery.eventId), "status": .string(delivery.status),
                                     "at": .timestamp(delivery.receivedAt), "detail": .string(delivery.detail), "body": shown]).jsonString(pretty: true) + "\n")
                return 0
            }
            io.out("\(delivery.source)  \(delivery.eventId)  \(delivery.status)  \(Timestamp.format(delivery.receivedAt))  \(delivery.detail)\n")
            io.out(shown.jsonString(pretty: true) + "\n")
            return 0
        }
        let since = try arguments.option("since").map { text throws(UsageError) in try StoreAccess.time(text) }
        if arguments.flag("rejected") {
            // A refused request was never mapped: it has no type to filter by.
            guard arguments.option("type") == nil else { throw UsageError("--type filters mapped deliveries; a refused request has no type") }
            let rows = try store.rejections(limit: since == nil ? limit : Int.max)
                .filter { r in (arguments.option("source") == nil || r.source == arguments.option("source")) && (since.map { r.at >= $0 } ?? true) }
                .prefix(limit)
            if json {
                io.out(Value.array(rows.map { r in
                    .object(["at": .timestamp(r.at), "source": .string(r.source), "status": .number(Double(r.status)), "reason": .string(r.reason), "peer": .string(r.peer)])
                }).jsonString(pretty: true) + "\n")
            } else {
                for r in rows { io.out("\(Timestamp.format(r.at))  \(r.status)  \(r.source)  \(r.reason)  \(r.peer)\n") }
            }
            return 0
        }
        let type = arguments.option("type")
        let rows = try store.deliveries(DeliveryQuery(source: arguments.option("source"), since: since, mappedTo: type, limit: limit))
        // The inbox knows vendor events as SOURCE:ID and canonical ones by their own id.
        let inboxId = { (d: Delivery) in d.source == "events" ? d.eventId : "\(d.source):\(d.eventId)" }
        let accepted = rows.filter { $0.status == "accepted" }.map(inboxId)
        let touched = try store.journeysTouched(eventIds: accepted)
        // An accepted event a flow refused to start from (`require` unmet) waits in the dead
        // letters: say so, instead of only "no journey".
        var reviews: [String: [DeadLetter]] = [:]
        for item in try store.deadLetters(DeadLetterQuery(kinds: [.review], eventIds: accepted, limit: Int.max)) {
            reviews[item.detail["event_id"].displayString, default: []].append(item)
        }
        let waiting = { (d: Delivery) in reviews[inboxId(d)] ?? [] }
        if json {
            io.out(Value.array(rows.map { d in
                .object(["at": .timestamp(d.receivedAt), "source": .string(d.source), "event_id": .string(d.eventId), "status": .string(d.status),
                         "detail": .string(d.detail), "duplicates": .number(Double(d.duplicates)),
                         "journeys": .array((touched[inboxId(d)] ?? []).filter { !$0.hasSuffix(JourneyEngine.ignoredMark) }.map(Value.string)),
                         "ignored_by": .array((touched[inboxId(d)] ?? []).filter { $0.hasSuffix(JourneyEngine.ignoredMark) }
                             .map { .string(String($0.dropLast(JourneyEngine.ignoredMark.count))) }),
                         "review": .array(waiting(d).map { .string($0.id) })])
            }).jsonString(pretty: true) + "\n")
        } else {
            // Wide enough for the longest status shown (`dismissed` was cut to `dismisse`).
            let width = rows.map(\.status.count).max() ?? 8
            for d in rows {
                let refused = waiting(d).map { "\($0.id) (\($0.flow ?? ""): \($0.reason))" }
                let journeys = touched[inboxId(d)].map { names in
                    let parts = names + refused
                    return parts.isEmpty ? "  → no journey" : "  → " + parts.joined(separator: ", ")
                } ?? ""
                let repeats = d.duplicates > 0 ? "  (+\(d.duplicates) duplicate\(d.duplicates == 1 ? "" : "s"))" : ""
                // `hirewire erase` (or retention) emptied it: no journey is the wrong story.
                if d.body == Array("{}".utf8) {
                    io.out("\(Timestamp.format(d.receivedAt))  \(d.source)  \(d.status.padding(toLength: max(8, width), withPad: " ", startingAt: 0))  \(d.eventId)  (data erased)\n")
                    continue
                }
                io.out("\(Timestamp.format(d.receivedAt))  \(d.source)  \(d.status.padding(toLength: max(8, width), withPad: " ", startingAt: 0))  \(d.eventId)  \(d.detail)\(repeats)\(journeys)\n")
            }
        }
        return 0
    }
}

/// `hirewire dead-letters [list | show ID | replay ID | dismiss ID]`
enum DeadLettersCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "dead-letters", abstract: "What failed and waits for a person: deliveries for review, parked events, journeys refused for missing data, actions out of retries.",
        discussion: """
            list (the default) shows each item with its id (delivery:12, event:3, review:40, action:7), newest first. \
            show ID prints the item (personal fields masked unless --unmask). replay ID puts it back to work: a delivery is \
            mapped again with the current sources, an event processed again, a review item's event routed again to its flow \
            with what is now known about the application, an action queued again with fresh attempts. A running \
            `hirewire serve` is told to pick the item up (SIGHUP); without one, replay processes it at once. A failed item \
            (an action whose arguments could not be rendered) cannot be replayed: fix its cause, then dismiss it. \
            dismiss ID takes an item off the list; it stays in the store, marked dismissed.
            """,
        arguments: [
            .positional("action", help: "list, show, replay or dismiss.", required: false),
            .positional("id", help: "The item, as list prints it.", required: false),
            .flag("unmask", help: "With show: print personal fields as they are."),
            .flag("all", help: "With replay: every item that can be replayed."),
            .option("limit", short: "n", help: "How many (default 50)."),
            StoreAccess.dbOption,
            .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text"),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let (locator, store) = try StoreAccess.open(arguments, io)
        let action = arguments.positional("action") ?? "list"
        switch action {
        case "list":
            let limit = try arguments.intOption("limit") ?? 50
            let items = try store.deadLetters(limit: limit)
            let waiting = try store.deadLetterCount()
            if arguments.option("format") == "json" {
                io.out(Value.array(items.map {
                    .object(["id": .string($0.id), "at": .timestamp($0.at), "kind": .string($0.kind.rawValue), "what": .string($0.what), "reason": .string($0.reason)])
                }).jsonString(pretty: true) + "\n")
            } else {
                for item in items {
                    io.out("\(item.id.padding(toLength: 14, withPad: " ", startingAt: 0))  \(Timestamp.format(item.at))  \(item.what)  \(item.reason)\n")
                }
                // The count is of everything waiting, not of the lines the limit let through.
                io.out(items.count < waiting ? "\(waiting) waiting (the newest \(items.count) shown; --limit N for more)\n" : "\(waiting) waiting\n")
            }
            return 0
        case "replay" where arguments.flag("all"):
            // Everything replayable, oldest first; items that cannot be replayed stay listed.
            let items = try store.deadLetters(DeadLetterQuery(kinds: [.delivery, .event, .review, .action], limit: Int.max)).reversed()
            var replayed = 0
            for item in items {
                do {
                    if try replay(item, store: store, locator: locator, io) == 0 { replayed += 1 }
                } catch {
                    io.err("\(item.id): \(error)\n")
                }
            }
            io.out("\(replayed) of \(items.count) replayed\n")
            return replayed == items.count ? 0 : 1
        case "show", "replay", "dismiss":
            guard let id = arguments.positional("id"), let (kind, number) = DeadLetter.parse(id) else {
                throw UsageError("\(action) takes an item id as list prints it, such as delivery:12")
            }
            guard let item = try store.deadLetter(kind, number) else {
                throw EnvironmentError("no waiting item \(id) (hirewire dead-letters lists them)")
            }
            if action == "show" {
                let detail = arguments.flag("unmask") ? item.detail : PersonalData.mask(item.detail)
                if arguments.option("format") == "json" {
                    io.out(Value.object(["id": .string(item.id), "at": .timestamp(item.at), "kind": .string(item.kind.rawValue), "what": .string(item.what),
                                         "reason": .string(item.reason), "detail": detail]).jsonString(pretty: true) + "\n")
                    return 0
                }
                io.out("\(item.id)  \(Timestamp.format(item.at))  \(item.what)\nreason: \(item.reason)\n")
                io.out(detail.jsonString(pretty: true) + "\n")
                return 0
            }
            if action == "dismiss" {
                guard try store.dismissDeadLetter(kind, number, at: Date()) else { throw EnvironmentError("\(id) is no longer waiting") }
                io.out("\(id) dismissed\n")
                return 0
            }
            guard kind != .failed else {
                throw EnvironmentError("\(id) was never made (\(item.reason)); fix the cause, then dismiss it")
            }
            guard kind != .timer else {
                throw EnvironmentError("\(id) cannot be read back, so there is nothing to replay; see to its journey (hirewire inspect), then dismiss it")
            }
            return try replay(item, store: store, locator: locator, io)
        default:
            throw UsageError("dead-letters takes list, show ID, replay ID or dismiss ID")
        }
    }

    static func replay(_ item: DeadLetter, store: any JourneyStore, locator: ProjectLocator, _ io: CommandIO) throws -> Int32 {
        let now = Date()
        func engine() throws -> (JourneyEngine, CompiledProject) {
            let project = try CommandSupport.compiledProject(locator, io)
            return (try JourneyEngine(project: project, store: store, env: CommandSupport.environment(for: project.files.config)), project)
        }
        if item.kind == .review {
            // The event goes to the one flow that refused it, filled with what is known by now;
            // the item is marked replayed in the transaction of that step, so it is routed once
            // however often (or however concurrently) it is replayed.
            guard let flow = item.flow, let event = try store.inboxEvent(id: item.detail["event_id"].displayString) else {
                throw EnvironmentError("the event of \(item.id) is no longer stored")
            }
            let (journeys, _) = try engine()
            guard try journeys.replay(try journeys.enriched(event), toFlow: flow, resolvingReview: item.number, now: now) else {
                throw EnvironmentError("\(item.id) is no longer waiting")
            }
            // Routed again, the flow may still refuse it (the data it needs has not arrived): a
            // new review item then waits, and the replay did not do what was asked.
            if let again = try store.deadLetters(DeadLetterQuery(kinds: [.review], after: item.number, eventIds: [event.id], flow: flow, limit: 1)).first {
                io.err("\(item.id): \(flow) refused \(event.type) \(event.id) again: \(again.reason); it waits as \(again.id)\n")
                return 1
            }
            io.out("\(item.id) replayed: \(event.type) \(event.id) routed again to \(flow)\n")
            return 0
        }
        guard try store.requeueDeadLetter(item.kind, item.number, at: now) else { throw EnvironmentError("\(item.id) is no longer waiting") }
        if ServerPidFile.signalRunning(root: locator.root, SIGHUP) {
            io.out("\(item.id) queued again; the running server picks it up now\n")
            return 0
        }
        if item.kind != .action {
            let (journeys, project) = try engine()
            try journeys.mapDeliveries(sources: project.sources, now: now)
            try journeys.processInbox(now: now)
            // Mapped again, a delivery may still lack what it needs: it is back in review, and
            // the replay did not do what was asked.
            if item.kind == .delivery, let again = try store.deadLetter(.delivery, item.number) {
                io.err("\(item.id): mapped again, and back in review: \(again.reason)\n")
                return 1
            }
        }
        io.out("\(item.id) queued again\(item.kind == .action ? "; it goes out when hirewire serve runs" : " and processed")\n")
        return 0
    }

}

/// `.hirewire/serve.pid`: lets commands tell a running `serve` that work is waiting.
enum ServerPidFile {
    static func path(_ root: String) -> String { (root as NSString).appendingPathComponent(".hirewire/serve.pid") }

    /// The pid the file names, if any.
    static func pid(_ root: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path(root), encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Whether `pid` is a running `hirewire serve` (its command line says so): a file left by a
    /// killed server may name a pid the system has since given to something else.
    static func isServer(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.contains { ($0 as NSString).lastPathComponent.hasPrefix("hirewire") } && words.contains("serve")
    }

    /// Records this process as the project's server, unless another running server already is
    /// (a second `serve` of the same project stopping used to remove the first one's file).
    static func write(root: String) {
        if let other = pid(root), other != getpid(), isServer(other) { return }
        try? FileManager.default.createDirectory(atPath: (root as NSString).appendingPathComponent(".hirewire"), withIntermediateDirectories: true)
        try? "\(getpid())\n".write(toFile: path(root), atomically: true, encoding: .utf8)
    }

    /// Removes the file if it names this process.
    static func remove(root: String) {
        if pid(root) == getpid() { try? FileManager.default.removeItem(atPath: path(root)) }
    }

    /// Sends `signal` to the server of `root` if one runs; false when none does.
    static func signalRunning(root: String, _ signal: Int32) -> Bool {
        guard let pid = pid(root), pid != getpid(), isServer(pid) else { return false }
        return kill(pid, signal) == 0
    }
}
