/// Masks personal data in payloads and logs: names, email addresses, phone numbers and anything
/// under a compensation-like key.
public enum PersonalData {
    static let personalKeys: Set<String> = ["name", "first_name", "last_name", "preferred_name", "full_name", "email", "email_address",
                                            "phone", "phone_number", "mobile", "address"]
    static let compensationWords = ["salary", "compensation", "pay", "bonus", "equity", "wage"]

    /// Whether a key names personal data.
    public static func isPersonal(_ key: String) -> Bool {
        let k = key.lowercased()
        return personalKeys.contains(k) || k.contains("email") || k.hasSuffix("_phone") || k.hasSuffix("_name")
            || compensationWords.contains { k.contains($0) }
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
