import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireStore

extension JourneyEngine {
    /// The last line of a stored version's source that names its file.
    static let versionFileMark = "\n# hirewire-file: "

    /// What a version's source is stored as: the flow file's own text with its path in a last
    /// comment line, so that an error in a journey pinned to it (a template that fails to
    /// render) points at a line and column of the file as it was committed. The normalized
    /// form when the file cannot be read, or no longer holds this very version (changed since
    /// it was compiled).
    static func storedSource(_ machine: Machine, in project: CompiledProject) -> String {
        let normalized = project.files.flowNodes[machine.file]?.toValue().jsonString() ?? ""
        let path = machine.file.hasPrefix("/") ? machine.file : (project.files.root as NSString).appendingPathComponent(machine.file)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.contains(versionFileMark) else { return normalized }
        let stored = text + (text.hasSuffix("\n") ? "" : "\n") + versionFileMark.dropFirst() + machine.file + "\n"
        guard ProjectCompiler.compileFlow(source: stored, file: machine.file, in: project.files)?.version == machine.version else { return normalized }
        return stored
    }

    /// The name positions in a stored version are given under: `flows/offer-nurture.yaml@v…`
    /// when the source names its file, else `offer-nurture@v…` (a normalized source, one line).
    static func versionFile(_ source: String, flow: String, version: String) -> String {
        if let mark = source.range(of: versionFileMark, options: .backwards) {
            let name = source[mark.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            if !name.isEmpty, !name.contains("\n") { return "\(name)@\(version)" }
        }
        return "\(flow)@\(version)"
    }
}
