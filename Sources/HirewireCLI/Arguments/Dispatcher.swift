/// Finds the command a command line names and runs it, turning errors into exit codes:
/// 0 success, 1 problems found, 2 usage or environment error.
public enum Dispatcher {
    public static func run(root: any HirewireCommand.Type, arguments: [String], io: CommandIO) async -> Int32 {
        var path = [root.configuration.name]
        var command: any HirewireCommand.Type = root
        var words = arguments
        // `hirewire help graph` is `hirewire graph --help`.
        if words.first == "help" {
            words.removeFirst()
            words.append("--help")
        }
        while let first = words.first, !first.hasPrefix("-") {
            let subs = command.configuration.subcommands
            guard !subs.isEmpty else { break }
            guard let sub = subs.first(where: { $0.configuration.name == first }) else {
                let names = subs.map { $0.configuration.name }
                io.err("error: unknown command '\(first)'\(ArgumentParser.suggestion(for: first, in: names))\n")
                io.err(Help.usage(path, command.configuration) + "\n  See '\(path.joined(separator: " ")) --help'.\n")
                return 2
            }
            command = sub
            path.append(first)
            words.removeFirst()
        }
        let config = command.configuration
        do {
            let parsed = try ArgumentParser.parse(words, specs: config.arguments)
            if parsed.flag("help") {
                io.out(Help.text(path, config))
                return 0
            }
            if let missing = config.arguments.first(where: { $0.required && parsed.option($0.name) == nil }) {
                throw UsageError("missing --\(missing.name)")
            }
            // No command named (`hirewire`, `hirewire --project DIR`): the help, as a usage error.
            if !config.subcommands.isEmpty && config.arguments.isEmpty {
                io.err("error: missing command\n" + Help.text(path, config))
                return 2
            }
            return try await command.run(parsed, io)
        } catch let error as UsageError {
            io.err("error: \(error.message)\n\(Help.usage(path, config))\n  See '\(path.joined(separator: " ")) --help'.\n")
            return 2
        } catch is ProblemsFound {
            return 1
        } catch let error as EnvironmentError {
            io.err("error: \(error.message)\n")
            return 2
        } catch {
            io.err("error: \(error)\n")
            return 2
        }
    }
}
