import Foundation
import HirewireConnectors
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// `hirewire serve [--port 8080] [--db PATH]`
enum ServeCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "serve",
        abstract: "Run webhook intake, journeys and timers on the embedded SQLite store.",
        discussion: """
            Routes: POST /hooks/{source} (sources/*.yaml), POST /events (canonical events, Authorization: Bearer \
            and server.events_token), GET /healthz, GET /readyz, GET /metrics. Reloads the project on SIGHUP and \
            when its files change (a broken edit is refused; the running version keeps serving). Stops \
            gracefully on SIGTERM or SIGINT. \
            Actions go out through the connectors (email to .hirewire/mail/ unless connectors.email.smtp.url is set), \
            with retries and dead letters.
            """,
        arguments: [
            .option("port", help: "TCP port (default: server.port in hirewire.yaml, else 8080; 0 picks a free one)."),
            StoreAccess.dbOption,
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io)
        let project = await CommandSupport.compileWithPlugins(root: locator.root, displayPrefix: locator.displayPrefix)
        let errors = project.runErrors
        guard errors.isEmpty else {
            io.err(DiagnosticOutput.text(errors))
            return 1
        }
        let database = try StoreAccess.path(arguments, io, locator: locator, config: project.files.config)
        let environment = ProcessInfo.processInfo.environment
        let store: SQLiteStore
        let engine: JourneyEngine
        // A new or empty file becomes the store; someone else's database is not taken over.
        let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
        if size > 0, let problem = SQLiteStore.problem(withExisting: database) {
            io.err("error: \(problem); pass the --db of a Hirewire store, or a new file\n")
            return 2
        }
        do {
            store = try SQLiteStore(path: database)
            engine = try JourneyEngine(project: project, store: store, env: CommandSupport.environment(for: project.files.config))
            try engine.migrate(now: Date())
            engine.logDeliveries = true
        } catch {
            throw EnvironmentError(error.description)
        }
        let connectorEnvironment = ConnectorSet.environment(project: project, root: locator.root, env: environment)
        let plugins = PluginHost.start(project: project, root: locator.root, env: environment)
        let dispatcher = ActionDispatcher(store: store, connectors: ConnectorSet.builtIns(connectorEnvironment, store: store) + plugins.map { $0 as any Connector },
                                    rates: ConnectorSet.rates(connectorEnvironment), alerts: DeadLetterAlert(environment: connectorEnvironment),
                                    onDead: { item, reason in
            do {
                try engine.actionFailed(journeyId: item.journey, action: item.action, reason: reason, now: Date())
            } catch {
                JSONLog.write("error", "cannot tell the journey its action failed", ["error": .string("\(error)")])
            }
        })
        EmailConnector(environment: connectorEnvironment).prepareMaildir()
        let loop = EngineLoop(engine: engine, sources: project.sources, onError: { error in
            JSONLog.write("error", "engine pass failed", ["error": .string(error.description)])
        }, afterPass: { dispatcher.wake() }, onRetention: { report in
            // Mail in the local Maildir is personal data too: kept as long as the store keeps it.
            let mail = MaildirCleaner.remove(olderThan: Date().addingTimeInterval(-engine.retention.personalData),
                                             in: (locator.root as NSString).appendingPathComponent(".hirewire/mail"))
            guard report != RetentionReport() || mail > 0 else { return }
            // What the events period deleted, then what erasing expired personal data changed.
            var fields: [String: Value] = ["purged": .number(Double(report.events)), "mail": .number(Double(mail))]
            for (name, count) in report.personalData.fields where count > 0 { fields["erased_" + name] = .number(Double(count)) }
            if report.more { fields["more"] = true }
            JSONLog.write("info", "retention applied", fields)
        })
        let intake = Intake(project: project, store: store, env: environment, extraMetrics: [engine.metrics, dispatcher.metrics])
        var limits = HTTPLimits()
        limits.maxBody = project.files.config.server.maxBody
        limits.threads = project.files.config.server.threads
        limits.timeoutSeconds = project.files.config.server.idleTimeout
        let requested = try arguments.intOption("port") ?? project.files.config.server.port
        // A port past 65535 was clamped to 65535 and served there.
        guard requested <= 65_535 else { throw UsageError("--port takes 0 to 65535 (0: any free port), not \(requested)") }
        var tls: (key: String, certificate: String)?
        if let cert = project.files.config.server.tlsCert, let key = project.files.config.server.tlsKey {
            let read = { (file: String) throws -> String in
                let path = file.hasPrefix("/") ? file : (locator.root as NSString).appendingPathComponent(file)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw EnvironmentError("cannot read TLS file \(file)") }
                return text
            }
            tls = (try read(key), try read(cert))
        }
        let server: HTTPServer
        do {
            let maxBody = limits.maxBody
            server = try HTTPServer(port: UInt16(clamping: requested), limits: limits, tls: tls,
                                    oversized: { intake.refusedOversized($0, limit: maxBody) }) { request, responder in
                intake.handle(request, responder: responder, stored: { loop.wake() })
            }
        } catch {
            throw EnvironmentError("\(error)")
        }
        JSONLog.write("info", "serving", ["url": .string("\(tls == nil ? "http" : "https")://127.0.0.1:\(server.port)"), "port": .number(Double(server.port)),
                  "flows": .number(Double(project.machines.count)), "sources": .number(Double(project.sources.count)), "store": .string(database)])
        ServerPidFile.write(root: locator.root)
        defer { ServerPidFile.remove(root: locator.root) }
        let task = Task { await loop.run() }
        let dispatch = Task { await dispatcher.run() }
        let reloader = Reloader(root: locator.root, displayPrefix: locator.displayPrefix, engine: engine, intake: intake, loop: loop, env: environment,
                                pluginSchemas: project.files.pluginSchemas)
        reloader.onReload = { reloaded in
            // Built-in connector settings follow hirewire.yaml; plugins keep running as started.
            let reconfigured = ConnectorSet.environment(project: reloaded, root: locator.root, env: environment)
            dispatcher.setConnectors(ConnectorSet.builtIns(reconfigured, store: store) + plugins.map { $0 as any Connector })
        }
        reloader.start()
        await Signals.waitForTermination()
        reloader.stop()
        JSONLog.write("info", "stopping")
        server.stop()
        intake.stop()
        task.cancel()
        dispatch.cancel()
        _ = await task.value
        _ = await dispatch.value
        plugins.forEach { $0.stop() }
        JSONLog.write("info", "stopped")
        return 0
    }
}

/// Waits for SIGTERM or SIGINT.
enum Signals {
    static func waitForTermination() async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "hirewire.signals")
            let once = OnceFlag()
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler {
                    if once.claim() { continuation.resume() }
                }
                source.resume()
                sources.append(source)
            }
            Retainer.keep(sources.map { $0 as AnyObject })
        }
    }
}

/// Resumes a continuation only once.
final class OnceFlag: @unchecked Sendable {
    // @unchecked: `done` is only touched under `lock`.
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}

/// Keeps the signal sources alive for the life of the process.
enum Retainer {
    nonisolated(unsafe) static var objects: [AnyObject] = []
    static func keep(_ items: [AnyObject]) { objects += items }
}
