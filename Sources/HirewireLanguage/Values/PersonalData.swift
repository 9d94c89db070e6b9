/// Masks personal data in payloads and logs: names, email addresses, phone numbers and anything
/// under a compensation-like key.
public enum PersonalData {
    /// Words that make a key contact data or a name, wherever they stand in it (`email`,
    /// `primaryPhoneNumber`, `phone_numbers`, `addresses`, `firstname`).
    static let personalWords: Set<String> = ["email", "emails", "phone", "phones", "mobile", "telephone", "address", "addresses",
                                             "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "birth", "birthday",
                                             "birthdate", "dob"]
    /// Words before `name` that say it names something other than a person (`job_name`,
    /// `stageName`): every other `name` is taken for a person's, the bare key too.
    static let thingWords: Set<String> = ["job", "jobs", "stage", "department", "office", "source", "tag", "status", "location", "company",
                                          "organization", "org", "team", "role", "pipeline", "board", "template", "file", "event", "flow",
                                          "state", "plan", "position", "requisition", "interview", "scorecard", "question", "field",
                                          "connector", "channel", "host", "domain", "brand", "product", "reason", "kind", "type"]
    /// Words that make a key compensation (`base_salary`, `payRate`, `bonus-target`). Matched as
    /// whole words of the key, not as substrings: `payload` and `display` are not pay.
    static let compensationWords: Set<String> = ["salary", "salaries", "compensation", "pay", "payroll", "bonus", "bonuses",
                                                 "equity", "wage", "wages", "remuneration", "stipend"]

    /// Whether a key names personal data.
    public static func isPersonal(_ key: String) -> Bool {
        let words = words(of: key)
        for (i, word) in words.enumerated() {
            if personalWords.contains(word) || compensationWords.contains(word) { return true }
            if word == "name" || word == "names", i == 0 || !thingWords.contains(words[i - 1]) { return true }
        }
        return false
    }

    /// Whether `value` under a personal key is masked: a flag (`can_email: true`) or a null says
    /// nothing about the person; text, numbers and whole lists or objects are masked.
    public static func masks(_ value: Value) -> Bool {
        switch value {
        case .null, .bool: return false
        default: return true
        }
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

    /// `value` with personal fields replaced by `"***"` (whole subtrees under personal keys).
    public static func mask(_ value: Value) -> Value {
        switch value {
        case .object(let o):
            var out: [String: Value] = [:]
            for (k, v) in o { out[k] = isPersonal(k) && masks(v) ? "***" : mask(v) }
            return .object(out)
        case .array(let items):
            return .array(items.map(mask))
        default:
            return value
        }
    }
}
