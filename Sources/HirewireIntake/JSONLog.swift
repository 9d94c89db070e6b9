import Foundation
import HirewireLanguage

/// Hirewire's log: one JSON object per line on stderr (`at`, `level`, `msg`, then fields).
/// Personal fields (names, emails, phones) and compensation are masked wherever they appear in
/// the fields, and email addresses inside free text are masked too, so logs can be shipped to a
/// log store without carrying candidates' data.
public enum JSONLog {
    /// Writes one line. `fields` may hold payload fragments; they are masked first.
    public static func write(_ level: String, _ message: String, _ fields: [String: Value] = [:]) {
        FileHandle.standardError.write(Data((line(level, message, fields) + "\n").utf8))
    }

    /// The line `write` would print (without its newline).
    public static func line(_ level: String, _ message: String, _ fields: [String: Value], at: Date = Date()) -> String {
        var all: [String: Value] = [:]
        for (key, value) in fields { all[key] = scrub(PersonalData.isPersonal(key) && PersonalData.masks(value) ? "***" : PersonalData.mask(value)) }
        all["at"] = .string(Timestamp.format(at))
        all["level"] = .string(level)
        all["msg"] = .string(message)
        return Value.object(all).jsonString()
    }

    /// Email addresses inside strings (error messages, reasons) become `***@domain`.
    static func scrub(_ value: Value) -> Value {
        switch value {
        case .string(let text) where text.contains("@"):
            return .string(text.replacingOccurrences(of: "[^\\s@\"'<>(),;:]+@", with: "***@", options: .regularExpression))
        case .object(let fields): return .object(fields.mapValues(scrub))
        case .array(let items): return .array(items.map(scrub))
        default: return value
        }
    }
}
