/// Builds `--help` text from a command's declarations, in swift-argument-parser's layout.
enum Help {
    static func usage(_ path: [String], _ config: CommandConfiguration) -> String {
        var parts = path
        if !config.subcommands.isEmpty { parts.append("<subcommand>") }
        for spec in config.arguments {
            switch spec.kind {
            case .positional(let required, let variadic):
                let name = "<\(spec.name)>" + (variadic ? " ..." : "")
                parts.append(required ? name : "[\(name)]")
            case .option(let valueName, _, _, let repeating):
                let option = "--\(spec.name) <\(valueName.lowercased())>\(repeating ? " ..." : "")"
                parts.append(spec.required ? option : "[\(option)]")
            case .flag:
                parts.append("[--\(spec.name)]")
            }
        }
        return "USAGE: " + parts.joined(separator: " ")
    }

    static func text(_ path: [String], _ config: CommandConfiguration) -> String {
        var lines = ["OVERVIEW: \(config.abstract)", ""]
        if !config.discussion.isEmpty { lines += [config.discussion, ""] }
        lines += [usage(path, config), ""]
        let positionals = config.arguments.filter(\.isPositional)
        if !positionals.isEmpty {
            lines.append("ARGUMENTS:")
            for spec in positionals { lines.append(row("<\(spec.name)>", spec.help)) }
            lines.append("")
        }
        lines.append("OPTIONS:")
        for spec in config.arguments.filter({ !$0.isPositional }) + ArgumentParser.globalOptions {
            var name = spec.short.map { "-\($0), " } ?? ""
            name += "--\(spec.name)"
            var help = spec.help
            if case .option(let valueName, let allowed, let defaultValue, _) = spec.kind {
                name += " <\(valueName.lowercased())>"
                if let allowed { help += " (values: \(allowed.joined(separator: ", ")))" }
                if let defaultValue { help += " (default: \(defaultValue))" }
            }
            lines.append(row(name, help))
        }
        if !config.subcommands.isEmpty {
            lines += ["", "SUBCOMMANDS:"]
            for sub in config.subcommands { lines.append(row(sub.configuration.name, sub.configuration.abstract)) }
            lines += ["", "  See '\(path.joined(separator: " ")) help <subcommand>' for detailed help."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func row(_ name: String, _ help: String) -> String {
        let padded = name.count < 24 ? name + String(repeating: " ", count: 24 - name.count) : name + "\n" + String(repeating: " ", count: 26)
        return "  " + padded + help
    }
}
