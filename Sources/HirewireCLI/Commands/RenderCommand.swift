import Foundation
import HirewireLanguage

/// `hirewire render TEMPLATE [--data FILE.json]`
enum RenderCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "render",
        abstract: "Preview a message template against JSON data, strictly (a missing value is an error).",
        discussion: "Subject and text render unescaped; html is HTML-escaped. A canonical event file stands for its data.",
        arguments: [
            .positional("template", help: "A name in templates/ (offer-next-steps) or a template file."),
            .option("data", valueName: "FILE", help: "A JSON file with the data (default: standard input)."),
            .option("flow", valueName: "ID", help: "Evaluate this flow's let names (default: the first flow that uses the template)."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        guard let name = arguments.positional("template") else { throw UsageError("missing argument <template>") }
        let locator = try CommandSupport.locate(arguments, io, requireProject: false)
        var path = locator.absolute(name, workingDirectory: io.workingDirectory)
        if !FileManager.default.fileExists(atPath: path) {
            path = (locator.root as NSString).appendingPathComponent("templates/\(name).yaml")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: (locator.root as NSString).appendingPathComponent("templates"))) ?? [])
                .filter { $0.hasSuffix(".yaml") }.map { ($0 as NSString).deletingPathExtension }
            throw EnvironmentError("no template '\(name)' (not a file, nor templates/\(name).yaml)\(Suggest.hint(for: name, in: names))")
        }
        let shown = locator.displayPath(ofAbsolute: path) ?? path
        let (loaded, problems) = TemplateLoader.load(path, displayPath: shown)
        guard let spec = loaded, !problems.contains(where: { $0.severity == .error }) else {
            io.err(DiagnosticOutput.text(problems))
            return 1
        }
        var data = try CommandSupport.readData(arguments.option("data"), io)
        if locator.isProject {
            // Templates use the let names of the flows that send them (`{{name}}`): evaluate them.
            let compiled = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
            let users = compiled.machines.values.filter { $0.allActions.contains { $0.templateName == spec.name } }.sorted { $0.id < $1.id }
            if let id = arguments.option("flow") {
                guard let machine = compiled.machines[id] else {
                    throw EnvironmentError("no valid flow '\(id)'\(Suggest.hint(for: id, in: compiled.machines.keys.sorted()))")
                }
                data = .object(machine.context(data: data, now: Date()))
            } else if let machine = users.first {
                data = .object(machine.context(data: data, now: Date()))
            }
        }
        var sections: [String] = []
        var failures: [Diagnostic] = []
        for (label, text, escape) in [("subject", spec.subject, false), ("text", spec.text, false), ("html", spec.html, true)] {
            guard let text else { continue }
            do {
                let rendered = try CompiledTemplate(parsing: text).render(data, escapeHTML: escape)
                sections.append(label == "subject" ? "Subject: \(rendered)" : "--- \(label) ---\n\(rendered)")
            } catch {
                failures.append(error)
            }
        }
        if !failures.isEmpty {
            io.err(failures.map { $0.description + "\n" }.joined())
            return 1
        }
        io.out(sections.joined(separator: "\n") + (sections.last?.hasSuffix("\n") == true ? "" : "\n"))
        return 0
    }
}
