/// Tokens of the expression language.
enum ExprToken: Sendable, Hashable {
    case number(Double)
    case string(String)
    case duration(Double)
    case identifier(String)
    case symbol(String)
    case end
}

/// Splits expression text into tokens, each with its 0-based character offset.
struct ExprLexer {
    private let chars: [Character]
    private var i = 0

    init(_ text: String) {
        chars = Array(text)
    }

    static let symbols3: Set<String> = []
    static let symbols2: Set<String> = ["==", "!=", "<=", ">=", "&&", "||", "??"]
    static let symbols1: Set<Character> = ["(", ")", "[", "]", ",", ".", "?", ":", "<", ">", "!", "+", "-", "*", "/", "%"]

    mutating func tokenize() throws(ExprError) -> [(ExprToken, Int)] {
        var out: [(ExprToken, Int)] = []
        while true {
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            guard i < chars.count else {
                out.append((.end, chars.count))
                return out
            }
            let start = i
            let c = chars[i]
            if c.isASCII, c.isNumber {
                out.append((try number(), start))
            } else if c == "\"" || c == "'" {
                out.append((.string(try string(quote: c)), start))
            } else if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
                out.append((.identifier(String(chars[start..<i])), start))
            } else if i + 1 < chars.count, Self.symbols2.contains(String(chars[i...i + 1])) {
                out.append((.symbol(String(chars[i...i + 1])), start))
                i += 2
            } else if Self.symbols1.contains(c) {
                out.append((.symbol(String(c)), start))
                i += 1
            } else if c == "=" {
                throw ExprError("'=' is not an operator; compare with '=='", at: start)
            } else if c == "&" || c == "|" {
                throw ExprError("'\(c)' is not an operator; use '\(c)\(c)'", at: start)
            } else {
                throw ExprError("unexpected character '\(c)'", at: start)
            }
        }
    }

    private func digit(_ k: Int) -> Bool { k < chars.count && chars[k].isASCII && chars[k].isNumber }

    /// The longest duration a flow may write: 100 years.
    static let longestDuration: Double = 36_525 * 86_400

    /// A number, or a duration when digits run straight into a unit (`48h`, `1d12h`).
    private mutating func number() throws(ExprError) -> ExprToken {
        let start = i
        while digit(i) { i += 1 }
        if i < chars.count, "smhdw".contains(chars[i]), !(i + 1 < chars.count && (chars[i + 1].isLetter || chars[i + 1] == "_") && !"smhdw".contains(chars[i + 1])) {
            return try duration(from: start)
        }
        if i < chars.count, chars[i] == ".", digit(i + 1) {
            i += 1
            while digit(i) { i += 1 }
        }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            var k = i + 1
            if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
            if digit(k) {
                i = k
                while digit(i) { i += 1 }
            }
        }
        if i < chars.count, chars[i].isLetter || chars[i] == "_" {
            throw ExprError("unexpected '\(chars[i])' after the number (durations use s, m, h, d, w)", at: i)
        }
        guard let value = Double(String(chars[start..<i])) else { throw ExprError("bad number", at: start) }
        return .number(value)
    }

    private mutating func duration(from start: Int) throws(ExprError) -> ExprToken {
        i = start
        var total = 0.0
        var lastRank = Int.max
        while digit(i) {
            let numberStart = i
            while digit(i) { i += 1 }
            guard i < chars.count, let rank = "smhdw".firstIndex(of: chars[i]).map({ "smhdw".distance(from: "smhdw".startIndex, to: $0) }) else {
                throw ExprError("expected a unit (s, m, h, d, w) after '\(String(chars[numberStart..<i]))'", at: i)
            }
            guard rank < lastRank else {
                throw ExprError("duration units go from largest to smallest, each once (write 1d12h)", at: i)
            }
            lastRank = rank
            let unit: Double = [1, 60, 3600, 86400, 604_800][rank]
            total += (Double(String(chars[numberStart..<i])) ?? 0) * unit
            i += 1
        }
        if i < chars.count, chars[i].isLetter || chars[i] == "_" {
            throw ExprError("unexpected '\(chars[i])' in a duration (units are s, m, h, d, w)", at: i)
        }
        // Beyond this no moment it leads to can be written as a date (and the arithmetic on
        // such moments stopped the process).
        guard total <= Self.longestDuration else {
            throw ExprError("a duration of at most 100 years (36525d), not \(String(chars[start..<i]))", at: start)
        }
        return .duration(total)
    }

    /// A quoted string with JSON escapes.
    private mutating func string(quote: Character) throws(ExprError) -> String {
        let start = i
        i += 1
        var out = ""
        while i < chars.count {
            let c = chars[i]
            if c == quote {
                i += 1
                return out
            }
            if c == "\\" {
                guard i + 1 < chars.count else { break }
                let e = chars[i + 1]
                switch e {
                case "\"": out.append("\"")
                case "'": out.append("'")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "u":
                    guard i + 5 < chars.count, let code = UInt32(String(chars[(i + 2)...(i + 5)]), radix: 16) else {
                        throw ExprError("\\u needs four hex digits", at: i)
                    }
                    i += 4
                    if let scalar = Unicode.Scalar(code) {
                        out.unicodeScalars.append(scalar)
                    } else {
                        throw ExprError("\\u\(String(code, radix: 16)) is not a character", at: i - 4)
                    }
                default:
                    throw ExprError("unknown escape '\\\(e)'", at: i)
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw ExprError("unterminated string (opened with \(quote) at column \(start + 1))", at: start)
    }
}
