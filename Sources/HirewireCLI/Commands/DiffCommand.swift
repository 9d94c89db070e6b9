import Foundation
import HirewireLanguage
import HirewireStore

/// `hirewire diff OLD NEW`, `hirewire diff --git REV [FLOW…]`, `hirewire diff --textconv FILE`
enum DiffCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "diff",
        abstract: "Semantic difference of flow versions: states, transitions, timers, actions, guards.",
        discussion: """
            diff OLD NEW compares two flow files; diff --git REV [FLOW…] compares the flows at a git revision with \
            the work tree (read with git show); diff --textconv FILE prints a normalized summary for git's textconv. \
            With --db, live journeys in states a change removes are counted. Exit 0 when equal, 1 when not.
            """,
        arguments: [
            .positional("files", help: "OLD NEW, or with --git the flows to compare (files or ids; default all).", required: false, variadic: true),
            .option("git", valueName: "REV", help: "Compare the flows at this git revision with the work tree."),
            .option("textconv", valueName: "FILE", help: "Print a normalized summary of one flow (for .gitattributes)."),
            .option("format", help: "Output format.", allowed: DiffFormat.allCases.map(\.rawValue), defaultValue: "text"),
            StoreAccess.dbOption,
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let locator = try CommandSupport.locate(arguments, io, requireProject: false)
        let current = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        if let file = arguments.option("textconv") {
            let path = locator.absolute(file, workingDirectory: io.workingDirectory)
            let (machine, _) = ProjectCompiler.compileFlowFile(path, displayPath: file, in: current.files)
            if let machine {
                io.out(DiffFormat.textconv(machine))
            } else {
                // A version that does not compile is shown as it is, so git diff still works.
                io.out((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
            }
            return 0
        }
        let format = try arguments.option("format", as: DiffFormat.self) ?? .text
        var diffs: [FlowDiff]
        if let revision = arguments.option("git") {
            diffs = try gitDiff(revision, selected: arguments.positionalList("files"), locator: locator, current: current, io: io)
        } else {
            let files = arguments.positionalList("files")
            guard files.count == 2 else { throw UsageError("diff takes OLD NEW (two flow files), or --git REV") }
            var machines: [Machine] = []
            for file in files {
                let path = locator.absolute(file, workingDirectory: io.workingDirectory)
                guard FileManager.default.fileExists(atPath: path) else { throw EnvironmentError("no such file: \(file)") }
                let (machine, diagnostics) = ProjectCompiler.compileFlowFile(path, displayPath: file, in: current.files)
                guard let machine else {
                    io.err(DiagnosticOutput.text(diagnostics.filter { $0.severity == .error }))
                    throw EnvironmentError("\(file) does not compile; fix it first (hirewire validate \(file))")
                }
                machines.append(machine)
            }
            diffs = [SemanticDiff.diff(old: machines[0], new: machines[1], oldProject: current, newProject: current)]
        }
        if arguments.option("db") != nil || FileManager.default.fileExists(atPath: (locator.root as NSString).appendingPathComponent(".hirewire/hirewire.db")) {
            if let store = try? StoreAccess.open(arguments, io, locator: locator, config: current.files.config) {
                diffs = try diffs.map { try LiveImpact.annotate($0, store: store, current: current) }
            }
        }
        io.out(format.render(diffs, color: io.isTerminal && format == .text))
        if format == .text, diffs.allSatisfy(\.isEmpty) { io.out("no semantic changes\n") }
        return diffs.allSatisfy(\.isEmpty) ? 0 : 1
    }

    /// The flows at `revision` against the work tree, paired by flow id.
    static func gitDiff(_ revision: String, selected: [String], locator: ProjectLocator, current: CompiledProject, io: CommandIO) throws -> [FlowDiff] {
        let old = try GitRevision.export(revision, root: locator.root)
        defer { try? FileManager.default.removeItem(atPath: old) }
        let before = ProjectCompiler.compile(root: old, displayPrefix: locator.displayPrefix)
        var ids = Set(before.files.flows.map(\.id.value)).union(current.files.flows.map(\.id.value)).sorted()
        if !selected.isEmpty {
            ids = ids.filter { id in
                selected.contains { sel in
                    sel == id || current.files.flows.contains { $0.id.value == id && ($0.file == sel || $0.file.hasSuffix("/" + sel) || sel.hasSuffix($0.file)) }
                        || before.files.flows.contains { $0.id.value == id && ($0.file == sel || sel.hasSuffix($0.file)) }
                }
            }
        }
        var out: [FlowDiff] = []
        for id in ids {
            let a = before.machines[id], b = current.machines[id]
            if a == nil, before.files.flows.contains(where: { $0.id.value == id }) {
                io.err("warning: \(id) does not compile at \(revision); comparing as added\n")
            }
            if b == nil, current.files.flows.contains(where: { $0.id.value == id }) {
                io.err(DiagnosticOutput.text(current.diagnostics.filter { $0.severity == .error }))
                throw EnvironmentError("\(id) does not compile in the work tree; fix it first (hirewire validate)")
            }
            out.append(SemanticDiff.diff(old: a, new: b, oldProject: before, newProject: current))
        }
        return out
    }
}

/// Reads a project's files at a git revision with `git` itself (no libgit2).
enum GitRevision {
    /// Writes flows/, templates/ and hirewire.yaml as they are at `revision` into a temporary folder.
    static func export(_ revision: String, root: String) throws -> String {
        let list = try git(["ls-tree", "-r", "--name-only", revision, "--", "flows", "templates", "hirewire.yaml", "hirewire.yml"], in: root)
        let target = NSTemporaryDirectory() + "hirewire-git-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: target + "/flows", withIntermediateDirectories: true)
        for path in String(decoding: list, as: UTF8.self).split(separator: "\n").map(String.init) where !path.isEmpty {
            let contents = try git(["show", "\(revision):\(path)"], in: root)
            let file = (target as NSString).appendingPathComponent(path)
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(to: URL(fileURLWithPath: file))
        }
        return target
    }

    static func git(_ arguments: [String], in directory: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw EnvironmentError("cannot run git: \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EnvironmentError("git \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return data
    }
}

/// Adds the live-journey impact of a diff from the store.
enum LiveImpact {
    static func annotate(_ diff: FlowDiff, store: SQLiteStore, current: CompiledProject) throws -> FlowDiff {
        guard !diff.isEmpty, let newVersion = diff.newVersion, let machine = current.machines[diff.flow] else { return diff }
        var out = diff
        for (version, state, count) in try store.liveStates(flow: diff.flow) where version != newVersion {
            let plural = count == 1 ? "journey waits" : "journeys wait"
            if let target = machine.migrate[state] {
                out.changes.append(FlowChange("!", "journeys", "\(count) live \(plural) in '\(state)' (\(version)): migrate: moves them to '\(machine.states[target].name)'"))
            } else if machine.stateIndex[diff.renames[state] ?? state] == nil {
                out.changes.append(FlowChange("!", "journeys", "\(count) live \(plural) in '\(state)', which \(newVersion) removes: they stay on \(version) unless a migrate: entry moves them"))
            } else if let renamed = diff.renames[state] {
                out.changes.append(FlowChange("!", "journeys", "\(count) live \(plural) in '\(state)' (renamed to '\(renamed)'): they stay on \(version) unless migrate: {\(state): \(renamed)} moves them"))
            } else {
                out.changes.append(FlowChange("!", "journeys", "\(count) live \(plural) in '\(state)' on \(version): they finish on \(version)"))
            }
        }
        return out
    }
}
