import HirewireLanguage

/// The parsed arguments of one command, read with typed accessors.
public struct ParsedArguments: Sendable {
    var positionals: [String: [String]] = [:]
    var options: [String: [String]] = [:]
    var flags: Set<String> = []
    let specs: [ArgumentSpec]

    /// The value of a positional, or nil when an optional one was not given.
    public func positional(_ name: String) -> String? { positionals[name]?.first }

    /// All values of a (variadic) positional.
    public func positionalList(_ name: String) -> [String] { positionals[name] ?? [] }

    /// The last value given for an option, or its default.
    public func option(_ name: String) -> String? {
        if let given = options[name]?.last { return given }
        if let spec = specs.first(where: { $0.name == name }), case .option(_, _, let defaultValue, _) = spec.kind { return defaultValue }
        return nil
    }

    /// Every value given for a repeating option.
    public func optionList(_ name: String) -> [String] { options[name] ?? [] }

    /// An option converted to a `RawRepresentable` type such as an enum.
    public func option<T: RawRepresentable>(_ name: String, as type: T.Type) throws(UsageError) -> T? where T.RawValue == String {
        guard let raw = option(name) else { return nil }
        guard let value = T(rawValue: raw) else { throw UsageError("invalid value '\(raw)' for --\(name)") }
        return value
    }

    /// An option read as a whole number.
    public func intOption(_ name: String) throws(UsageError) -> Int? {
        guard let raw = option(name) else { return nil }
        // Every count and port the commands take is 0 or more (a negative limit trapped).
        guard let value = Int(raw), value >= 0 else { throw UsageError("--\(name) takes a whole number of 0 or more, not '\(raw)'") }
        return value
    }

    /// Whether a flag was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }
}

/// Parses a command line against a command's declarations.
enum ArgumentParser {
    /// Options every command takes.
    static let globalOptions: [ArgumentSpec] = [
        .option("project", valueName: "DIR", help: "The project folder (default: the current directory)."),
        .flag("help", short: "h", help: "Show help for this command."),
    ]

    static func parse(_ words: [String], specs declared: [ArgumentSpec]) throws(UsageError) -> ParsedArguments {
        let specs = declared + globalOptions
        var result = ParsedArguments(specs: specs)
        var loose: [String] = []
        var i = 0
        var onlyPositionals = false
        func spec(named name: String) throws(UsageError) -> ArgumentSpec {
            if let s = specs.first(where: { !$0.isPositional && $0.name == name }) { return s }
            let names = specs.filter { !$0.isPositional }.map { "--" + $0.name }
            throw UsageError("unknown option '--\(name)'\(suggestion(for: "--" + name, in: names))")
        }
        while i < words.count {
            let word = words[i]
            i += 1
            if onlyPositionals || word == "-" || !word.hasPrefix("-") || looksLikeValue(word) {
                if word == "--", !onlyPositionals { onlyPositionals = true; continue }
                loose.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            var name: String
            var inline: String?
            if word.hasPrefix("--") {
                name = String(word.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
            } else {
                let letter = word.dropFirst().first ?? "?"
                guard word.count == 2, let s = specs.first(where: { $0.short == letter }) else {
                    throw UsageError("unknown option '\(word)'")
                }
                name = s.name
            }
            let s = try spec(named: name)
            switch s.kind {
            case .flag:
                if inline != nil { throw UsageError("--\(name) takes no value") }
                result.flags.insert(name)
            case .option(let valueName, let allowed, _, _):
                var value: String
                if let inline {
                    value = inline
                } else {
                    guard i < words.count, !(words[i].hasPrefix("--") && !looksLikeValue(words[i])) else {
                        throw UsageError("--\(name) needs a value (\(valueName))")
                    }
                    value = words[i]
                    i += 1
                }
                if let allowed, !allowed.contains(value) {
                    throw UsageError("invalid value '\(value)' for --\(name); expected one of \(allowed.joined(separator: ", "))\(suggestion(for: value, in: allowed))")
                }
                result.options[name, default: []].append(value)
            case .positional:
                break
            }
        }
        if result.flags.contains("help") { return result }
        let positionalSpecs = specs.filter(\.isPositional)
        for s in positionalSpecs {
            guard case .positional(let required, let variadic) = s.kind else { continue }
            if variadic {
                result.positionals[s.name] = loose
                loose = []
            } else if !loose.isEmpty {
                result.positionals[s.name] = [loose.removeFirst()]
            } else if required {
                throw UsageError("missing argument <\(s.name)>")
            }
        }
        if let extra = loose.first {
            throw UsageError("unexpected argument '\(extra)'")
        }
        return result
    }

    /// Negative numbers and relative times (`-2h`, `-7d`, `-5`) are values, not options.
    static func looksLikeValue(_ word: String) -> Bool {
        guard word.hasPrefix("-"), let second = word.dropFirst().first else { return false }
        return second.isNumber
    }

    static func suggestion(for word: String, in candidates: [String]) -> String {
        Suggest.hint(for: word, in: candidates)
    }
}
