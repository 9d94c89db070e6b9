import Foundation
import XCTest
@testable import HirewireCLI

/// The repository root (the bundled project).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs `hirewire ARGS` in-process in `directory`, capturing its output.
func hirewire(_ arguments: [String], in directory: String = repoRoot, input: String = "") async -> (code: Int32, out: String, err: String) {
    let capture = CapturedOutput()
    let code = await HirewireMain.run(arguments: arguments, io: capture.io(input: Data(input.utf8), workingDirectory: directory))
    return (code, capture.out, capture.err)
}

/// A copy of the bundled project in a temporary folder, to edit.
func copyOfBundledProject() throws -> String {
    let target = NSTemporaryDirectory() + "hirewire-cli-" + UUID().uuidString
    let fm = FileManager.default
    try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
    for item in ["flows", "templates", "hirewire.yaml", "examples", "schemas"] {
        try fm.copyItem(atPath: repoRoot + "/" + item, toPath: target + "/" + item)
    }
    return target
}

/// Replaces the first occurrence of `old` in a file; fails the test when it is absent.
func edit(_ path: String, replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let range = text.range(of: old) else {
        XCTFail("'\(old)' not in \(path)", file: file, line: line)
        return
    }
    try text.replacingCharacters(in: range, with: new).write(toFile: path, atomically: true, encoding: .utf8)
}

/// The 1-based line and column of the first occurrence of `needle` in a file.
func position(of needle: String, in path: String) throws -> (line: Int, column: Int)? {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    for (i, line) in text.components(separatedBy: "\n").enumerated() {
        if let r = line.range(of: needle) { return (i + 1, line.distance(from: line.startIndex, to: r.lowerBound) + 1) }
    }
    return nil
}
