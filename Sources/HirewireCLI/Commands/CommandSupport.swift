import Foundation
import HirewireConnectors
import HirewireLanguage

/// Shared steps of the commands: finding the project, reading data files.
enum CommandSupport {
    /// The project named by `--project` or the working directory.
    static func locate(_ arguments: ParsedArguments, _ io: CommandIO, requireProject: Bool = true) throws(EnvironmentError) -> ProjectLocator {
        let locator = ProjectLocator(projectOption: arguments.option("project"), workingDirectory: io.workingDirectory)
        if requireProject, !locator.isProject {
            throw EnvironmentError("\(locator.root) is not a Hirewire project (it has no flows/ folder); run in a project or pass --project DIR")
        }
        return locator
    }

    /// Whether `file` (a display path) is one of `selected` or lies in one of those folders;
    /// an empty selection selects everything.
    static func isSelected(_ file: String, by selected: [String]) -> Bool {
        selected.isEmpty || selected.contains { file == $0 || file.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }

    /// Values of the environment variables hirewire.yaml lists under `env:` (unset ones are absent).
    /// Compiles the project with its plugins' argument schemas (each plugin is asked to describe
    /// itself); plugins that cannot be described add `plugin-unavailable` errors.
    static func compileWithPlugins(root: String, displayPrefix: String, extraFlowFiles: [String] = []) async -> CompiledProject {
        let config = ProjectLoader(root: root, displayPrefix: displayPrefix).load().config
        guard config.connectors.contains(where: { $0.plugin != nil }) else {
            return ProjectCompiler.compile(root: root, displayPrefix: displayPrefix, extraFlowFiles: extraFlowFiles)
        }
        let (schemas, problems) = await PluginSchemas.collect(config: config, root: root, env: ProcessInfo.processInfo.environment)
        var project = ProjectCompiler.compile(root: root, displayPrefix: displayPrefix, extraFlowFiles: extraFlowFiles, pluginSchemas: schemas)
        project.diagnostics += problems
        return project
    }

    /// The compiled project, refused with its diagnostics when it has errors.
    static func compiledProject(_ locator: ProjectLocator, _ io: CommandIO) throws(EnvironmentError) -> CompiledProject {
        let project = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        let errors = project.runErrors
        guard errors.isEmpty else {
            io.err(DiagnosticOutput.text(errors))
            throw EnvironmentError("the project has \(errors.count) error(s); fix them first (hirewire validate)")
        }
        return project
    }

    static func environment(for config: ProjectConfig) -> [String: String] {
        let process = ProcessInfo.processInfo.environment
        var out: [String: String] = [:]
        for name in config.env.map(\.value) { out[name] = process[name] }
        return out
    }

    /// Reads a JSON context from `--data FILE` (or standard input); a canonical event stands for
    /// its data.
    static func readData(_ path: String?, _ io: CommandIO) throws(EnvironmentError) -> Value {
        let data: Data
        let name: String
        if let path {
            let full = path.hasPrefix("/") ? path : (io.workingDirectory as NSString).appendingPathComponent(path)
            guard let contents = FileManager.default.contents(atPath: full) else {
                throw EnvironmentError("cannot read \(path)")
            }
            data = contents
            name = path
        } else {
            data = io.readInput()
            name = "standard input"
            if data.isEmpty { return .object([:]) }
        }
        do {
            let value = try Value.parseJSON(data)
            guard case .object = value else { throw EnvironmentError("\(name) must hold a JSON object") }
            return EventData.unwrap(value)
        } catch let error as EnvironmentError {
            throw error
        } catch {
            throw EnvironmentError("\(name): \(error)")
        }
    }
}
