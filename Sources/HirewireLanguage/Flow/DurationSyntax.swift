/// The flow language's duration syntax (`90s`, `15m`, `48h`, `2d`, `1w`, `1d12h`): the same
/// scanner expressions use, so a duration means one thing everywhere.
public enum DurationSyntax {
    /// A problem at a 0-based character offset of the text.
    public struct Problem: Error, Sendable {
        public var message: String
        public var offset: Int
    }

    /// Seconds of elapsed time (`d` is always 24h, `w` 168h).
    public static func parse(_ text: String) -> Result<Double, Problem> {
        var lexer = ExprLexer(text)
        let tokens: [(ExprToken, Int)]
        do {
            tokens = try lexer.tokenize()
        } catch {
            return .failure(Problem(message: error.message, offset: error.offset))
        }
        switch tokens.first {
        case (.duration(let seconds), _)? where tokens.count == 2:
            return .success(seconds)
        case (.number(let n), _)? where tokens.count == 2:
            return .failure(Problem(message: "a duration needs a unit: \(Value.formatNumber(n))s, \(Value.formatNumber(n))m, \(Value.formatNumber(n))h, \(Value.formatNumber(n))d or \(Value.formatNumber(n))w",
                                    offset: text.count))
        default:
            return .failure(Problem(message: "'\(text)' is not a duration such as 48h or 1d12h", offset: 0))
        }
    }
}
