import Foundation
import HirewireIntake
import HirewireLanguage
import HirewireRuntime

/// Hot reload for `serve`: on SIGHUP, or when a project file changes (checked every second), the
/// project is compiled again; a valid one is swapped in, a broken one is refused with its
/// diagnostics in the log and the running version keeps serving.
final class Reloader: @unchecked Sendable {
    // @unchecked: `fingerprint` is only touched on `queue`.
    let root: String
    let displayPrefix: String
    let engine: JourneyEngine
    let intake: Intake
    let loop: EngineLoop
    let env: [String: String]
    /// Plugin argument schemas described at startup (plugins are not restarted on reload).
    let pluginSchemas: [String: Value]
    /// Runs after a valid project was swapped in (serve reconfigures its connectors).
    var onReload: @Sendable (CompiledProject) -> Void = { _ in }
    private let queue = DispatchQueue(label: "hirewire.reload")
    private var fingerprint: String
    private var timer: DispatchSourceTimer?
    private var hangup: DispatchSourceSignal?

    init(root: String, displayPrefix: String, engine: JourneyEngine, intake: Intake, loop: EngineLoop, env: [String: String],
         pluginSchemas: [String: Value] = [:]) {
        self.pluginSchemas = pluginSchemas
        self.root = root
        self.displayPrefix = displayPrefix
        self.engine = engine
        self.intake = intake
        self.loop = loop
        self.env = env
        fingerprint = Reloader.fingerprint(root)
    }

    /// Paths, sizes and modification times of every project file: a change in any means reload.
    static func fingerprint(_ root: String) -> String {
        let fm = FileManager.default
        var parts: [String] = []
        for folder in ["flows", "templates", "sources"] {
            let base = (root as NSString).appendingPathComponent(folder)
            for item in (fm.enumerator(atPath: base)?.allObjects as? [String] ?? []).sorted() {
                let path = (base as NSString).appendingPathComponent(item)
                if let a = try? fm.attributesOfItem(atPath: path) {
                    parts.append("\(folder)/\(item):\(a[.size] ?? 0):\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
                }
            }
        }
        for name in ["hirewire.yaml", "hirewire.yml"] {
            if let a = try? fm.attributesOfItem(atPath: (root as NSString).appendingPathComponent(name)) {
                parts.append("\(name):\(a[.size] ?? 0):\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
            }
        }
        return parts.joined(separator: "\n")
    }

    func start() {
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hup.setEventHandler { [weak self] in self?.reload(reason: "SIGHUP") }
        hup.resume()
        hangup = hup
        let tick = DispatchSource.makeTimerSource(queue: queue)
        tick.schedule(deadline: .now() + 1, repeating: 1)
        tick.setEventHandler { [weak self] in
            guard let self else { return }
            let now = Reloader.fingerprint(self.root)
            if now != self.fingerprint { self.reload(reason: "files changed") }
        }
        tick.resume()
        timer = tick
    }

    func stop() {
        timer?.cancel()
        hangup?.cancel()
    }

    private func reload(reason: String) {
        fingerprint = Reloader.fingerprint(root)
        let project = ProjectCompiler.compile(root: root, displayPrefix: displayPrefix, pluginSchemas: pluginSchemas)
        let errors = project.runErrors
        guard errors.isEmpty else {
            for d in errors { JSONLog.write("error", "reload refused", ["diagnostic": .string(d.description)]) }
            JSONLog.write("warn", "reload refused; the running version keeps serving", ["reason": .string(reason), "errors": .number(Double(errors.count))])
            return
        }
        do {
            try engine.reload(project, now: Date())
            intake.reload(project: project, env: env)
            loop.setSources(project.sources)
            onReload(project)
            loop.wake()
            JSONLog.write("info", "reloaded", ["reason": .string(reason),
                      "versions": .object(engine.currentVersions.mapValues(Value.string))])
        } catch {
            JSONLog.write("error", "reload failed", ["error": .string(error.description)])
        }
    }
}
