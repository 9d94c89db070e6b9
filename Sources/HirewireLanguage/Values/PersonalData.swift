/// Masks personal data in payloads and logs: names, email addresses, phone numbers and anything
/// under a compensation-like key.
public enum PersonalData {
    static let personalKeys: Set<String> = ["name", "first_name", "last_name", "preferred_name", "full_name", "email", "email_address",
                                            "phone", "phone_number", "mobile", "address"]
    /// Words that make a key compensation (`base_salary`, `payRate`, `bonus-target`). Matched as
    /// whole words of the key, not as substrings: `payload` and `display` are not pay.
    static let compensationWords: Set<String> = ["salary", "salaries", "compensation", "pay", "payroll", "bonus", "bonuses",
                                                 "equity", "wage", "wages", "remuneration", "stipend"]

    /// Whether a key names personal data.
    public static func isPersonal(_ key: String) -> Bool {
        let k = key.lowercased()
        return personalKeys.contains(k) || k.contains("email") || k.hasSuffix("_phone") || k.hasSuffix("_name")
            || words(of: key).contains { compensationWords.contains($0) }
    }

    /// The lower-case words of a key: split at `_`, `-`, `.`, spaces and where a lower-case
    /// letter or digit meets an upper-case one (`baseSalary` → `base`, `salary`).
    static func words(of key: String) -> [String] {
        var out: [String] = []
        var word = ""
        var previousLower = false
        for c in key {
            if c == "_" || c == "-" || c == "." || c == " " {
                if !word.isEmpty { out.append(word) }
                word = ""
                previousLower = false
                continue
            }
            if c.isUppercase, previousLower, !word.isEmpty {
                out.append(word)
                word = ""
            }
            word.append(contentsOf: c.lowercased())
            previousLower = c.isLowercase || c.isNumber
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// `value` with personal fields replaced by `"***"` (whole subtrees under compensation keys).
    public static func mask(_ value: Value) -> Value {
        switch value {
        case .object(let o):
            var out: [String: Value] = [:]
            for (k, v) in o { out[k] = isPersonal(k) && !v.isNull ? "***" : mask(v) }
            return .object(out)
        case .array(let items):
            return .array(items.map(mask))
        default:
            return value
        }
    }
}
