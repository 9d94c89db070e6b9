import Foundation

/// What the compiler knows about the project around a flow: config, calendars, templates,
/// connectors.
struct ProjectContext {
    let config: ProjectConfig
    let templates: [String: TemplateSpec]
    let calendarNames: [String]
    /// Plugin connector names from hirewire.yaml (`name` or `name.action` in flows).
    let pluginNames: [String]
    /// Argument schemas plugins declared, by `name` and `name.action`.
    let pluginSchemas: [String: Value]

    init(_ files: ProjectFiles) {
        config = files.config
        templates = files.templates
        calendarNames = files.config.calendars.map(\.name.value)
        pluginNames = files.config.connectors.filter { $0.plugin != nil }.map(\.name.value)
        pluginSchemas = files.pluginSchemas
    }

    /// Whether `name` (`name` or `name.action`) is a plugin connector hirewire.yaml declares.
    func isPlugin(_ name: String) -> Bool {
        let base = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        return pluginNames.contains(base)
    }
}

/// The result of compiling a project: a machine per valid flow, and every diagnostic.
public struct CompiledProject: Sendable {
    public var files: ProjectFiles
    /// Machines by flow id (only flows without errors).
    public var machines: [String: Machine]
    /// Calendars from hirewire.yaml by name.
    public var calendars: [String: CompiledCalendar]
    /// Message templates by name.
    public var templates: [String: MessageTemplate]
    /// Webhook sources by name (only those without errors).
    public var sources: [String: CompiledSource]
    public var diagnostics: [Diagnostic]

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
    public var warningCount: Int { diagnostics.count { $0.severity == .warning } }

    /// The errors that keep the project from running: all but those in flow tests
    /// (`*.test.yaml`). A stale test does not change what a server does, so it does not stop
    /// `serve` or a hot reload; `hirewire test` and `hirewire validate` report it.
    public var runErrors: [Diagnostic] {
        diagnostics.filter { $0.severity == .error && !$0.location.file.hasSuffix(".test.yaml") }
    }

    /// The machine of the flow in `file` (display path), if it compiled.
    public func machine(inFile file: String) -> Machine? {
        machines.values.first { $0.file == file }
    }
}

/// Compiles whole projects: flows, templates, calendars, sources and flow tests.
public enum ProjectCompiler {
    /// Loads and compiles the project at `root`.
    public static func compile(root: String, displayPrefix: String = "", extraFlowFiles: [String] = [],
                               pluginSchemas: [String: Value] = [:]) -> CompiledProject {
        var files = ProjectLoader(root: root, displayPrefix: displayPrefix).load(extraFlowFiles: extraFlowFiles)
        files.pluginSchemas = pluginSchemas
        return compile(files)
    }

    /// Compiles one flow from stored source (an older version) with the project's templates and
    /// calendars as they are now. Nil when it no longer compiles.
    public static func compileFlow(source: String, file: String, in files: ProjectFiles) -> Machine? {
        let reader = NodeReader()
        guard let node = try? YAMLLoader.load(source, file: file),
              let flow = FlowReader(reader: reader, file: file).read(node) else { return nil }
        let machine = FlowCompiler(flow: flow, node: node, project: ProjectContext(files), reader: reader).compile()
        return reader.diagnostics.hasErrors ? nil : machine
    }

    /// Compiles one flow file with the project's templates, calendars and config (for `diff`,
    /// whose files may come from elsewhere, such as a git revision).
    public static func compileFlowFile(_ path: String, displayPath: String, in files: ProjectFiles) -> (Machine?, [Diagnostic]) {
        let reader = NodeReader()
        let node: Node
        do {
            node = try YAMLLoader.loadFile(path, displayPath: displayPath)
        } catch {
            return (nil, [error])
        }
        guard let flow = FlowReader(reader: reader, file: displayPath).read(node) else { return (nil, reader.diagnostics.items) }
        let machine = FlowCompiler(flow: flow, node: node, project: ProjectContext(files), reader: reader).compile()
        return (reader.diagnostics.hasErrors ? nil : machine, reader.diagnostics.sorted)
    }

    /// Compiles already-loaded project files.
    public static func compile(_ files: ProjectFiles) -> CompiledProject {
        var diagnostics = files.diagnostics.items
        let context = ProjectContext(files)
        let configReader = NodeReader()
        let calendars = CalendarChecks(config: files.config, reader: configReader).run()
        let templates = TemplateChecks(templates: files.templates, reader: configReader).run()
        diagnostics += configReader.diagnostics.items

        var machines: [String: Machine] = [:]
        var firstFile: [String: Located<String>] = [:]
        for flow in files.flows {
            let reader = NodeReader()
            if let first = firstFile[flow.id.value] {
                reader.error("duplicate flow id '\(flow.id.value)' (also in \(first.location.file):\(first.location.line))",
                             at: flow.id.location, code: "duplicate-flow")
            } else {
                firstFile[flow.id.value] = flow.id
            }
            let machine = FlowCompiler(flow: flow, node: files.flowNodes[flow.file], project: context, reader: reader).compile()
            if let machine, !reader.diagnostics.hasErrors { machines[machine.id] = machines[machine.id] ?? machine }
            diagnostics += reader.diagnostics.items
        }
        let other = NodeReader()
        var sources: [String: CompiledSource] = [:]
        for source in files.sources {
            if let compiled = SourceChecks(source: source, reader: other).run() { sources[compiled.name] = compiled }
        }
        for test in files.tests {
            FlowTestChecks(test: test, flows: files.flows, project: context, reader: other).run()
        }
        diagnostics += other.diagnostics.items
        var bag = DiagnosticBag()
        var seen: Set<Diagnostic> = []
        for d in diagnostics where seen.insert(d).inserted { bag.append(d) }
        return CompiledProject(files: files, machines: machines, calendars: calendars, templates: templates, sources: sources, diagnostics: bag.sorted)
    }
}
