/// The flow language's duration syntax (`90s`, `48h`, `1d12h`) as used by the readers.
enum DurationSyntax {
    struct Problem: Error {
        var message: String
        var offset: Int
    }

    static func parse(_ text: String) -> Result<Double, Problem> {
        var total = 0.0
        var number = ""
        for ch in text {
            if ch.isNumber { number.append(ch); continue }
            let unit: Double
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604800
            default: return .failure(Problem(message: "'\(text)' is not a duration such as 48h", offset: 0))
            }
            guard let n = Double(number) else { return .failure(Problem(message: "'\(text)' is not a duration such as 48h", offset: 0)) }
            total += n * unit
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else { return .failure(Problem(message: "'\(text)' is not a duration such as 48h", offset: 0)) }
        return .success(total)
    }
}
