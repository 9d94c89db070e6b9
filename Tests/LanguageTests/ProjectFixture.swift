import Foundation
import XCTest
@testable import HirewireLanguage

/// A throwaway project folder on disk, for compiler and CLI tests.
struct ProjectFixture {
    let root: String

    init(files: [String: String]) throws {
        root = NSTemporaryDirectory() + "hirewire-test-" + UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        for (path, text) in files {
            let full = root + "/" + path
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }

    func compile() -> CompiledProject {
        ProjectCompiler.compile(root: root)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Asserts that exactly one diagnostic with `code` exists and stands at `line:column` of `file`.
func assertDiagnostic(_ diagnostics: [Diagnostic], _ code: String, _ line: Int, _ column: Int,
                      file: String = "flows/demo.yaml", contains text: String? = nil,
                      severity: Severity = .error, sourceFile: StaticString = #filePath, sourceLine: UInt = #line) {
    let matching = diagnostics.filter { $0.code == code }
    guard matching.count == 1, let d = matching.first else {
        XCTFail("expected one [\(code)], got: \(diagnostics.map(\.description))", file: sourceFile, line: sourceLine)
        return
    }
    XCTAssertEqual(d.location.file, file, file: sourceFile, line: sourceLine)
    XCTAssertEqual("\(d.location.line):\(d.location.column)", "\(line):\(column)", d.description, file: sourceFile, line: sourceLine)
    XCTAssertEqual(d.severity, severity, file: sourceFile, line: sourceLine)
    if let text {
        XCTAssertTrue(d.message.contains(text), "'\(d.message)' lacks '\(text)'", file: sourceFile, line: sourceLine)
    }
}
