import Foundation
import HirewireLanguage

/// `hirewire graph FLOW`
enum GraphCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "graph",
        abstract: "Draw a flow's compiled state machine (Mermaid renders in GitHub pull requests).",
        arguments: [
            .positional("flow", help: "A flow file, or a flow id."),
            .option("format", help: "Diagram format.", allowed: GraphFormat.allCases.map(\.rawValue), defaultValue: "mermaid"),
            .option("changes", valueName: "REV", help: "Mark what changed since a git revision: added green, removed red, changed amber."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        guard let flow = arguments.positional("flow") else { throw UsageError("missing argument <flow>") }
        let format = try arguments.option("format", as: GraphFormat.self) ?? .mermaid
        let located = try FlowLookup.find(flow, arguments: arguments, io: io)
        var previous: Machine?
        if let revision = arguments.option("changes") {
            let locator = try CommandSupport.locate(arguments, io, requireProject: false)
            let old = try GitRevision.export(revision, root: locator.root)
            defer { try? FileManager.default.removeItem(atPath: old) }
            previous = ProjectCompiler.compile(root: old).machines[located.id]
            if previous == nil { io.err("note: \(located.id) did not exist (or did not compile) at \(revision); everything is new\n") }
        }
        io.out(GraphRenderer.render(located, format: format, previous: previous))
        return 0
    }
}

/// Finds one compiled flow by file path or id; reports its diagnostics when it does not compile.
enum FlowLookup {
    struct Failed: Error {}

    static func find(_ flow: String, arguments: ParsedArguments, io: CommandIO) throws -> Machine {
        let locator = try CommandSupport.locate(arguments, io, requireProject: false)
        let absolute = locator.absolute(flow, workingDirectory: io.workingDirectory)
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory)
        // A file the project itself does not load is compiled beside it, as another flow file
        // (a folder is never one: it is answered as no flow file).
        let loaded = isDirectory.boolValue || ProjectLoader(root: locator.root).loads(absolute)
        let inside = isFile && loaded ? locator.displayPath(ofAbsolute: absolute) : nil
        let extra = isFile && inside == nil && !isDirectory.boolValue ? [absolute] : []
        let compiled = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix, extraFlowFiles: extra)
        let file = inside ?? (isFile ? absolute : nil)
        if let machine = file.flatMap(compiled.machine(inFile:)) ?? (file == nil ? compiled.machines[flow] : nil) {
            return machine
        }
        // Named by id, the flow's own file is the one to report on: other flows' errors are not
        // why this one has no graph.
        // (Errors elsewhere only when the file has none: a template it uses may be the cause.)
        let own = file ?? compiled.files.flows.first { $0.id.value == flow }?.file
        let errors = compiled.diagnostics.filter { $0.severity == .error }
        let mine = errors.filter { d in own.map { d.location.file == $0 } ?? true }
        let problems = mine.isEmpty && file == nil ? errors : mine
        if file == nil, compiled.files.flows.first(where: { $0.id.value == flow }) == nil {
            let ids = compiled.files.flows.map(\.id.value)
            throw EnvironmentError("no flow '\(flow)': not a file, and no flow has that id\(Suggest.hint(for: flow, in: ids))")
        }
        // A folder, a template, a test, the config…: say what it is not, instead of an empty report.
        if let file, compiled.files.flows.first(where: { $0.file == file }) == nil, problems.isEmpty {
            let ids = compiled.files.flows.map(\.id.value).sorted()
            throw UsageError("\(flow) is not a flow file (flows are the *.yaml files under flows/ that start with flow:); flows here: \(ids.joined(separator: ", "))")
        }
        io.err(DiagnosticOutput.text(problems))
        throw ProblemsFound()
    }
}

/// The command found problems and already reported them: exit 1.
struct ProblemsFound: Error {}
