import Foundation

/// Everything a project folder holds, read and typed but not yet compiled.
public struct ProjectFiles: Sendable {
    /// The project folder.
    public var root: String
    public var config: ProjectConfig
    public var flows: [FlowSpec]
    /// The loaded node tree of each flow file, by display path (for version hashes and schemas).
    public var flowNodes: [String: Node]
    public var templates: [String: TemplateSpec]
    public var sources: [SourceSpec]
    public var tests: [FlowTestSpec]
    /// Problems found while reading: syntax, unknown keys, malformed values.
    public var diagnostics: DiagnosticBag
    /// Argument schemas of plugin actions, by `plugin` and `plugin.action`, as the plugins
    /// described them (filled by the commands that can run plugins; empty means unchecked).
    public var pluginSchemas: [String: Value] = [:]
}

/// Finds and reads a project's files: hirewire.yaml, flows/, templates/, sources/, flow tests.
public struct ProjectLoader: Sendable {
    /// The project folder.
    public var root: String
    /// What to print before project-relative paths in diagnostics ("" when the project is the
    /// working directory).
    public var displayPrefix: String

    public init(root: String, displayPrefix: String = "") {
        self.root = root
        self.displayPrefix = displayPrefix
    }

    /// True when `directory` looks like a project (it has a flows/ folder).
    public static func isProject(_ directory: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("flows"), isDirectory: &isDir) && isDir.boolValue
    }

    /// The path diagnostics print for a project-relative path.
    public func display(_ relative: String) -> String {
        displayPrefix.isEmpty ? relative : (displayPrefix as NSString).appendingPathComponent(relative)
    }

    private func absolute(_ relative: String) -> String {
        (root as NSString).appendingPathComponent(relative)
    }

    static let configNames = ["hirewire.yaml", "hirewire.yml"]
    static let flowExtensions = [".yaml", ".yml", ".json"]
    static let testExtensions = [".test.yaml", ".test.yml"]
    /// Of templates/ and sources/.
    static let fileExtensions = [".yaml", ".yml"]

    /// Whether ``load(extraFlowFiles:)`` reads `absolute` itself: hirewire.yaml, a flow in
    /// flows/, a flow test anywhere under it, a file of templates/ or sources/.
    public func loads(_ absolute: String) -> Bool {
        let base = (root as NSString).standardizingPath + "/"
        let path = (absolute as NSString).standardizingPath
        guard path.hasPrefix(base) else { return false }
        let relative = String(path.dropFirst(base.count))
        let parts = relative.split(separator: "/").map(String.init)
        let has = { (extensions: [String]) in extensions.contains { relative.hasSuffix($0) } }
        switch (parts.first, parts.count) {
        case (_, 1): return Self.configNames.contains(relative)
        case ("flows"?, let n): return has(Self.testExtensions) || (n == 2 && has(Self.flowExtensions))
        case ("templates"?, 2), ("sources"?, 2): return has(Self.fileExtensions)
        default: return false
        }
    }

    /// Project-relative paths of the files in `folder` with one of `extensions`.
    func files(in folder: String, extensions: [String], recursive: Bool) -> [String] {
        let base = absolute(folder)
        let fm = FileManager.default
        var found: [String] = []
        if recursive {
            guard let walker = fm.enumerator(atPath: base) else { return [] }
            while let item = walker.nextObject() as? String {
                if extensions.contains(where: { item.hasSuffix($0) }) { found.append((folder as NSString).appendingPathComponent(item)) }
            }
        } else {
            let items = (try? fm.contentsOfDirectory(atPath: base)) ?? []
            for item in items where extensions.contains(where: { item.hasSuffix($0) }) {
                found.append((folder as NSString).appendingPathComponent(item))
            }
        }
        return found.sorted()
    }

    /// Reads the whole project. Extra flow files (outside flows/) may be named for `validate PATH`.
    public func load(extraFlowFiles: [String] = []) -> ProjectFiles {
        let reader = NodeReader()
        var project = ProjectFiles(root: root, config: .defaults, flows: [], flowNodes: [:], templates: [:],
                                   sources: [], tests: [], diagnostics: DiagnosticBag())
        func loadNode(_ relative: String, absolutePath: String? = nil) -> (Node, String)? {
            let shown = absolutePath == nil ? display(relative) : relative
            do {
                return (try YAMLLoader.loadFile(absolutePath ?? absolute(relative), displayPath: shown), shown)
            } catch {
                reader.absorb(bag(error))
                return nil
            }
        }
        for name in Self.configNames where FileManager.default.fileExists(atPath: absolute(name)) {
            if let (node, shown) = loadNode(name) {
                project.config = ConfigReader(reader: reader, file: shown).read(node)
            }
            break
        }
        let flowFiles = files(in: "flows", extensions: Self.flowExtensions, recursive: false)
            .filter { file in !Self.testExtensions.contains { file.hasSuffix($0) } }
        for relative in flowFiles {
            if let (node, shown) = loadNode(relative), let flow = FlowReader(reader: reader, file: shown).read(node) {
                project.flows.append(flow)
                project.flowNodes[shown] = node
            }
        }
        for path in extraFlowFiles {
            if let (node, shown) = loadNode(path, absolutePath: path), let flow = FlowReader(reader: reader, file: shown).read(node) {
                // A file given beside the project is another version of the project's flow of
                // the same id, if it has one: it stands in for that flow (not a duplicate of it).
                let replaced = project.flows.filter { $0.id.value == flow.id.value && !extraFlowFiles.contains($0.file) }.map(\.file)
                project.flows.removeAll { replaced.contains($0.file) }
                for file in replaced { project.flowNodes[file] = nil }
                project.flows.append(flow)
                project.flowNodes[shown] = node
            }
        }
        for relative in files(in: "templates", extensions: Self.fileExtensions, recursive: false) {
            let name = ((relative as NSString).lastPathComponent as NSString).deletingPathExtension
            if let (node, shown) = loadNode(relative) {
                project.templates[name] = FileReaders(reader: reader, file: shown).template(node, name: name)
            }
        }
        for relative in files(in: "sources", extensions: Self.fileExtensions, recursive: false) {
            if let (node, shown) = loadNode(relative), let source = FileReaders(reader: reader, file: shown).source(node) {
                project.sources.append(source)
            }
        }
        for relative in files(in: "flows", extensions: Self.testExtensions, recursive: true) {
            if let (node, shown) = loadNode(relative) {
                let directory = (absolute(relative) as NSString).deletingLastPathComponent
                if let test = FileReaders(reader: reader, file: shown).flowTest(node, directory: directory) {
                    project.tests.append(test)
                }
            }
        }
        project.diagnostics = reader.diagnostics
        return project
    }

    private func bag(_ diagnostic: Diagnostic) -> DiagnosticBag {
        var bag = DiagnosticBag()
        for item in diagnostic.all { bag.append(item) }
        return bag
    }
}

/// Reads a single template file (for `hirewire render FILE`).
public enum TemplateLoader {
    /// The template in `path`, named after the file; problems come back as diagnostics.
    public static func load(_ path: String, displayPath: String) -> (TemplateSpec?, [Diagnostic]) {
        let reader = NodeReader()
        do {
            let node = try YAMLLoader.loadFile(path, displayPath: displayPath)
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let spec = FileReaders(reader: reader, file: displayPath).template(node, name: name)
            TemplateChecks(templates: [name: spec], reader: reader).run()
            return (spec, reader.diagnostics.items)
        } catch {
            return (nil, [error])
        }
    }
}
