import Foundation
import HirewireIntake
import HirewireLanguage
import HirewireStore

/// What a plugin says about itself (`describe`).
public struct PluginDescription: Sendable {
    public struct Action: Sendable {
        public var name: String
        public var argsSchema: Value
        public var audience: String
    }
    public var name: String
    public var version: String
    public var actions: [Action]

    init?(_ value: Value) {
        guard let name = value["name"].stringValue, let actions = value["actions"].arrayValue else { return nil }
        self.name = name
        version = value["version"].displayString
        self.actions = actions.compactMap { a in
            a["name"].stringValue.map { Action(name: $0, argsSchema: a["args_schema"], audience: a["audience"].stringValue ?? "team") }
        }
    }
}

/// A connector plugin: any executable speaking JSON lines over stdin/stdout (interfaces.md),
/// started once in the project folder with Hirewire's environment. Requests carry ids and may be
/// in flight together (up to `concurrency`); each has a timeout. A plugin that exits or hangs is
/// restarted on the next call, and the actions it had in flight fail as retryable, so the
/// dispatcher tries them again (same idempotency key). Its stderr goes to the log.
///
/// Thread rule: `state` is guarded by `lock`; the process's pipes are read on Foundation's
/// handler queues, which only touch `state` under the lock. Hence `@unchecked Sendable`.
public final class PluginHost: Connector, @unchecked Sendable {
    public let name: String
    public let concurrency: Int
    let executable: String
    let root: String
    let env: [String: String]
    let timeout: Double

    private let lock = NSLock()
    private var process: Process?
    private var input: FileHandle?
    private var pending: [Int: CheckedContinuation<Value, any Error>] = [:]
    private var nextId = 1
    private var buffer = Data()
    private var stopped = false
    /// How many times the plugin was (re)started.
    public private(set) var starts = 0

    public init(name: String, executable: String, root: String, env: [String: String], concurrency: Int = 4, timeout: Double = 30) {
        self.name = name
        self.executable = executable.hasPrefix("/") ? executable : (root as NSString).appendingPathComponent(executable)
        self.root = root
        self.env = env
        self.concurrency = concurrency
        self.timeout = timeout
    }

    /// One host per `connectors.NAME: {plugin: PATH}` of the project (started on first use).
    public static func start(project: CompiledProject, root: String, env: [String: String]) -> [PluginHost] {
        project.files.config.connectors.compactMap { setting in
            guard let plugin = setting.plugin else { return nil }
            let settings = setting.settings.toValue()
            return PluginHost(name: setting.name.value, executable: plugin, root: root, env: env,
                              concurrency: settings["concurrency"].numberValue.map { max(1, Int($0)) } ?? 4,
                              timeout: settings["timeout"].stringValue.flatMap { text -> Double? in
                                  if case .success(let s) = DurationSyntax.parse(text) { return s }
                                  return nil
                              } ?? 30)
        }
    }

    /// Asks the plugin to describe itself.
    public func describe() async throws(ConnectorFailure) -> PluginDescription {
        let value = try await call("describe", params: .null)
        guard let description = PluginDescription(value) else {
            throw ConnectorFailure("plugin \(name) answered describe without name and actions", retryable: false)
        }
        return description
    }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        let parts = item.action.connector.split(separator: ".", maxSplits: 1)
        let action = parts.count == 2 ? String(parts[1]) : name
        return try await call("execute", params: .object([
            "action": .string(action), "args": item.action.arguments, "idempotency_key": .string(item.action.idempotencyKey),
            "attempt": .number(Double(item.attempts + 1)),
        ]))
    }

    /// Stops the plugin: its stdin is closed (a plugin exits at end of input), and after two
    /// seconds it is killed. Its in-flight calls fail as retryable.
    public func stop() {
        lock.lock()
        stopped = true
        let running = process
        let handle = input
        input = nil
        lock.unlock()
        try? handle?.close()
        guard let running else { return }
        for _ in 0..<200 where running.isRunning { usleep(10_000) }
        Self.kill(running)
    }

    /// SIGKILL: processes started from Swift concurrency threads inherit blocked signals, so
    /// SIGTERM may never arrive.
    static func kill(_ process: Process) {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    // MARK: Requests

    func call(_ method: String, params: Value) async throws(ConnectorFailure) -> Value {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                lock.lock()
                let id = nextId
                nextId += 1
                do {
                    try ensureRunning()
                } catch {
                    lock.unlock()
                    continuation.resume(throwing: error)
                    return
                }
                pending[id] = continuation
                var request: [String: Value] = ["id": .number(Double(id)), "method": .string(method)]
                if !params.isNull { request["params"] = params }
                let line = Data((Value.object(request).jsonString() + "\n").utf8)
                let handle = input
                lock.unlock()
                do {
                    try handle?.write(contentsOf: line)
                } catch {
                    fail(id, ConnectorFailure("plugin \(name): cannot write to it (\(error.localizedDescription))", retryable: true))
                }
                let seconds = timeout
                Task { [weak self] in
                    try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    self?.timedOut(id)
                }
            }
        } catch let failure as ConnectorFailure {
            throw failure
        } catch {
            throw ConnectorFailure("plugin \(name): \(error.localizedDescription)", retryable: true)
        }
    }

    private func fail(_ id: Int, _ failure: ConnectorFailure) {
        lock.lock()
        let continuation = pending.removeValue(forKey: id)
        lock.unlock()
        continuation?.resume(throwing: failure)
    }

    /// A call that got no answer in time: the plugin is presumed hung. It is detached and killed,
    /// and every call it had (this one included) fails as retryable — they may have been carried
    /// out — so the next call starts a fresh process.
    private func timedOut(_ id: Int) {
        lock.lock()
        guard pending[id] != nil else {
            lock.unlock()
            return
        }
        let orphans = pending
        pending = [:]
        let running = process
        process = nil
        input = nil
        lock.unlock()
        for (key, continuation) in orphans {
            let message = key == id ? "plugin \(name) did not answer within \(timeout)s" : "plugin \(name) was restarted (another call hung)"
            continuation.resume(throwing: ConnectorFailure(message, retryable: true))
        }
        JSONLog.write("warn", "plugin hung; restarting it", ["plugin": .string(name)])
        if let running { Self.kill(running) }
    }

    /// Starts the plugin when it is not running. Called with `lock` held.
    private func ensureRunning() throws {
        if let process, process.isRunning { return }
        if stopped { throw ConnectorFailure("plugin \(name) is stopped", retryable: true) }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ConnectorFailure("plugin \(name): \(executable) is not an executable file", retryable: false)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let pluginName = name
        stdout.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { self?.received(data) }
        }
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
                JSONLog.write("info", "plugin stderr", ["plugin": .string(pluginName), "line": .string(String(line))])
            }
        }
        process.terminationHandler = { [weak self] ended in self?.exited(ended) }
        do {
            try process.run()
        } catch {
            throw ConnectorFailure("plugin \(name) does not start: \(error.localizedDescription)", retryable: true)
        }
        self.process = process
        input = stdin.fileHandleForWriting
        buffer = Data()
        starts += 1
        if starts > 1 { JSONLog.write("warn", "plugin restarted", ["plugin": .string(name), "starts": .number(Double(starts))]) }
    }

    private func received(_ data: Data) {
        lock.lock()
        buffer += data
        var answers: [(CheckedContinuation<Value, any Error>, Result<Value, ConnectorFailure>)] = []
        while let newline = buffer.firstIndex(of: 0x0A) {
            let line = buffer[buffer.startIndex..<newline]
            buffer = Data(buffer[buffer.index(after: newline)...])
            guard let message = try? Value.parseJSON(Data(line)), let id = message["id"].numberValue.map({ Int($0) }),
                  let continuation = pending.removeValue(forKey: id) else { continue }
            if !message["error"].isNull {
                let error = message["error"]
                answers.append((continuation, .failure(ConnectorFailure("plugin \(name): \(error["message"].displayString)",
                                                                        retryable: error["retryable"].boolValue ?? false))))
            } else {
                answers.append((continuation, .success(message["result"])))
            }
        }
        lock.unlock()
        for (continuation, result) in answers { continuation.resume(with: result.mapError { $0 as any Error }) }
    }

    private func exited(_ ended: Process) {
        lock.lock()
        guard process === ended else {
            lock.unlock()
            return
        }
        process = nil
        input = nil
        let orphans = pending
        pending = [:]
        let status = ended.terminationStatus
        let wasStopped = stopped
        lock.unlock()
        if !wasStopped { JSONLog.write("warn", "plugin exited", ["plugin": .string(name), "status": .number(Double(status))]) }
        for (_, continuation) in orphans {
            continuation.resume(throwing: ConnectorFailure("plugin \(name) exited (status \(status)) before answering", retryable: true))
        }
    }
}

/// Plugin argument schemas for the compiler: each plugin of hirewire.yaml is started, asked to
/// describe itself and stopped. A plugin that cannot be described is a `plugin-unavailable`
/// error at its entry in hirewire.yaml.
public enum PluginSchemas {
    public static func collect(config: ProjectConfig, root: String, env: [String: String]) async -> (schemas: [String: Value], problems: [Diagnostic]) {
        var schemas: [String: Value] = [:]
        var problems: [Diagnostic] = []
        for setting in config.connectors {
            guard let plugin = setting.plugin else { continue }
            let host = PluginHost(name: setting.name.value, executable: plugin, root: root, env: env, timeout: 10)
            do {
                let description = try await host.describe()
                for action in description.actions {
                    schemas["\(setting.name.value).\(action.name)"] = action.argsSchema
                }
                if description.actions.count == 1, let only = description.actions.first { schemas[setting.name.value] = only.argsSchema }
            } catch {
                problems.append(Diagnostic(at: setting.name.location, "plugin '\(setting.name.value)' (\(plugin)) cannot be described: \(error.message)",
                                           code: "plugin-unavailable"))
            }
            host.stop()
        }
        return (schemas, problems)
    }
}
