import Foundation
import HirewireLanguage

/// `hirewire validate [PATH…]`
enum ValidateCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "validate",
        abstract: "Compile flows, sources, templates and config; report problems as file:line:col.",
        discussion: "With no paths, checks the whole project. Warnings alone exit 0.",
        arguments: [
            .positional("paths", help: "Files or folders to check (default: the whole project).", required: false, variadic: true),
            .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text"),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io, requireProject: arguments.positionalList("paths").isEmpty)
        var extra: [String] = []
        var selected: [String] = []
        for path in arguments.positionalList("paths") {
            let absolute = locator.absolute(path, workingDirectory: io.workingDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
                throw EnvironmentError("no such file: \(path)")
            }
            if let shown = locator.displayPath(ofAbsolute: absolute), isDirectory.boolValue || ProjectLoader(root: locator.root).loads(absolute) {
                selected.append(shown)
            } else if !isDirectory.boolValue {
                // A file the project does not load (outside it, or in the project folder but not
                // in flows/, templates/ or sources/) is compiled as a flow with the project's
                // context: it used to pass unread, "0 errors", whatever it held.
                extra.append(absolute)
                selected.append(absolute)
            } else {
                throw EnvironmentError("\(path) is outside the project \(locator.root); pass --project \(path)")
            }
        }
        let compiled = await CommandSupport.compileWithPlugins(root: locator.root, displayPrefix: locator.displayPrefix, extraFlowFiles: extra)
        var diagnostics = compiled.diagnostics
        diagnostics = diagnostics.filter { CommandSupport.isSelected($0.location.file, by: selected) }
        io.out(arguments.option("format") == "json" ? DiagnosticOutput.json(diagnostics) : DiagnosticOutput.text(diagnostics))
        return diagnostics.contains { $0.severity == .error } ? 1 : 0
    }
}
