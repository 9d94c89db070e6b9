import HirewireLanguage

/// Prints diagnostics as `PATH:LINE:COL: error|warning: MESSAGE [code]` or as JSON.
enum DiagnosticOutput {
    static func text(_ diagnostics: [Diagnostic]) -> String {
        var out = diagnostics.map(\.description).joined(separator: "\n")
        if !out.isEmpty { out += "\n" }
        let errors = diagnostics.count { $0.severity == .error }
        let warnings = diagnostics.count { $0.severity == .warning }
        out += "\(errors) \(errors == 1 ? "error" : "errors"), \(warnings) \(warnings == 1 ? "warning" : "warnings")\n"
        return out
    }

    static func json(_ diagnostics: [Diagnostic]) -> String {
        let items: [Value] = diagnostics.map { d in
            .object(["file": .string(d.location.file), "line": .number(Double(d.location.line)),
                     "column": .number(Double(d.location.column)), "severity": .string(d.severity.rawValue),
                     "message": .string(d.message), "code": .string(d.code)])
        }
        let result: Value = .object([
            "diagnostics": .array(items),
            "errors": .number(Double(diagnostics.count { $0.severity == .error })),
            "warnings": .number(Double(diagnostics.count { $0.severity == .warning })),
        ])
        return result.jsonString(pretty: true) + "\n"
    }
}
