import Foundation
import HirewireEngine
import HirewireLanguage

/// `hirewire test [PATH…]`
enum TestCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "test",
        abstract: "Run flow tests (*.test.yaml) on a virtual clock; ends with 'N passed, N failed'.",
        discussion: "Connectors are recorded, not called. With no paths, runs every test under flows/.",
        arguments: [
            .positional("paths", help: "Test files or folders (default: all).", required: false, variadic: true),
            .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text"),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io)
        let compiled = await CommandSupport.compileWithPlugins(root: locator.root, displayPrefix: locator.displayPrefix)
        let selected = arguments.positionalList("paths").map { locator.displayPath(ofAbsolute: locator.absolute($0, workingDirectory: io.workingDirectory)) ?? $0 }
        let tests = compiled.files.tests.filter { CommandSupport.isSelected($0.file, by: selected) }
        let errors = compiled.diagnostics.filter { $0.severity == .error }
        // A test file that does not load is a failed test, counted and named like one (it used
        // to be left out of the summary while the run still exited 1).
        let loaded = Set(compiled.files.tests.map(\.file))
        let broken = Dictionary(grouping: errors.filter { $0.location.file.hasSuffix(".test.yaml") && !loaded.contains($0.location.file) },
                                by: \.location.file)
        // A path that names no test is a mistake (a typo in CI would otherwise pass with 0 tests).
        for (path, shown) in zip(arguments.positionalList("paths"), selected)
        where !compiled.files.tests.contains(where: { CommandSupport.isSelected($0.file, by: [shown]) })
            && !broken.keys.contains(where: { CommandSupport.isSelected($0, by: [shown]) }) {
            throw UsageError("no flow tests at \(path) (flow tests are files named *.test.yaml under flows/)")
        }
        // What the selection rests on: the project's own errors (a flow, template, plugin) and
        // those of the selected test files, not those of tests left out of the run.
        let relevant = errors.filter { !$0.location.file.hasSuffix(".test.yaml") || CommandSupport.isSelected($0.location.file, by: selected) }
        if !relevant.isEmpty { io.err(DiagnosticOutput.text(relevant)) }
        let runner = FlowTestRunner(project: compiled, env: CommandSupport.environment(for: compiled.files.config))
        let unloadable = broken.keys.sorted().filter { CommandSupport.isSelected($0, by: selected) }.map { file in
            FlowTestResult(name: "does not load", file: file, failures: (broken[file] ?? []).map(\.description), timeline: [])
        }
        // A test whose own file has errors (an unknown connector in `of`, a time that does not
        // read) fails with them at their line and column instead of running half-understood.
        let mistakes = Dictionary(grouping: errors.filter { loaded.contains($0.location.file) }, by: \.location.file)
        let results = tests.map { test in
            mistakes[test.file].map { FlowTestResult(name: test.name.value, file: test.file, failures: $0.map(\.description), timeline: []) }
                ?? runner.run(test)
        } + unloadable
        let passed = results.filter(\.passed).count
        if arguments.option("format") == "json" {
            let items: [Value] = results.map { r in
                .object(["name": .string(r.name), "file": .string(r.file), "passed": .bool(r.passed), "failures": .array(r.failures.map(Value.string))])
            }
            io.out(Value.object(["tests": .array(items), "passed": .number(Double(passed)), "failed": .number(Double(results.count - passed)),
                            "errors": .number(Double(relevant.count))])
                .jsonString(pretty: true) + "\n")
        } else {
            for r in results {
                io.out("\(r.passed ? "✓" : "✗") \(r.file): \(r.name)\n")
                for failure in r.failures { io.out("    \(failure)\n") }
            }
            // The summary says why a run whose tests all passed still fails.
            let projectErrors = relevant.count { !$0.location.file.hasSuffix(".test.yaml") }
            io.out("\(passed) passed, \(results.count - passed) failed\(projectErrors > 0 ? "; the project has \(projectErrors) error\(projectErrors == 1 ? "" : "s") (above)" : "")\n")
        }
        return passed == results.count && relevant.isEmpty ? 0 : 1
    }
}
