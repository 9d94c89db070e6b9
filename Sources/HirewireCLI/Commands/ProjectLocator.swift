import Foundation
import HirewireLanguage

/// Finds the project a command works on and how to print its paths.
struct ProjectLocator {
    /// The project folder (absolute).
    var root: String
    /// Prefix for project-relative paths in output ("" when the project is the working directory).
    var displayPrefix: String
    /// Whether the folder really is a project (has flows/).
    var isProject: Bool

    /// `--project DIR` when given, else the working directory.
    init(projectOption: String?, workingDirectory: String = FileManager.default.currentDirectoryPath) {
        let cwd = (workingDirectory as NSString).standardizingPath
        if let option = projectOption {
            let absolute = option.hasPrefix("/") ? option : (cwd as NSString).appendingPathComponent(option)
            root = (absolute as NSString).standardizingPath
            displayPrefix = root == cwd ? "" : ProjectLocator.relative(root, to: cwd) ?? root
        } else {
            root = cwd
            displayPrefix = ""
        }
        isProject = ProjectLoader.isProject(root)
    }

    /// `path` relative to `base` when it lies inside it.
    static func relative(_ path: String, to base: String) -> String? {
        let base = base.hasSuffix("/") ? base : base + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : nil
    }

    /// An argument path resolved against the working directory.
    func absolute(_ path: String, workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let joined = path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    /// The display path of an absolute file path inside the project, or nil when it lies outside.
    func displayPath(ofAbsolute path: String) -> String? {
        guard let relative = ProjectLocator.relative(path, to: root) else { return nil }
        return displayPrefix.isEmpty ? relative : (displayPrefix as NSString).appendingPathComponent(relative)
    }
}
