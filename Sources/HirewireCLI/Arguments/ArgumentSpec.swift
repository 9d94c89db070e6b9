/// One declared argument of a command: a positional, an option that takes a value, or a flag.
///
/// Commands declare their arguments as data (no property wrappers) and read the parsed result
/// through ``ParsedArguments``:
///
/// ```swift
/// static let configuration = CommandConfiguration(
///     name: "graph", abstract: "Draw a flow's state machine.",
///     arguments: [.positional("flow", help: "A flow file or id."),
///                 .option("format", help: "Diagram format.", allowed: ["mermaid", "dot"], defaultValue: "mermaid")])
/// // in run: let format = try args.option("format", as: GraphFormat.self)
/// ```
public struct ArgumentSpec: Sendable, Hashable {
    /// The three kinds of arguments.
    public enum Kind: Sendable, Hashable {
        /// `required`: must be given; `variadic`: collects all remaining positionals.
        case positional(required: Bool, variadic: Bool)
        case option(valueName: String, allowed: [String]?, defaultValue: String?, repeating: Bool)
        case flag
    }

    public var name: String
    public var short: Character?
    public var help: String
    public var kind: Kind
    /// An option the command cannot run without: shown without brackets in the usage line, and
    /// its absence is a usage error (after `--help` is answered).
    public var required = false

    /// A positional argument.
    public static func positional(_ name: String, help: String, required: Bool = true, variadic: Bool = false) -> ArgumentSpec {
        ArgumentSpec(name: name, short: nil, help: help, kind: .positional(required: required, variadic: variadic))
    }

    /// An option `--name VALUE` (or `--name=VALUE`, or `-s VALUE`).
    public static func option(_ name: String, short: Character? = nil, valueName: String? = nil, help: String,
                              allowed: [String]? = nil, defaultValue: String? = nil, repeating: Bool = false, required: Bool = false) -> ArgumentSpec {
        var spec = ArgumentSpec(name: name, short: short, help: help,
                                kind: .option(valueName: valueName ?? name.uppercased(), allowed: allowed, defaultValue: defaultValue, repeating: repeating))
        spec.required = required
        return spec
    }

    /// A flag `--name` that is either present or not.
    public static func flag(_ name: String, short: Character? = nil, help: String) -> ArgumentSpec {
        ArgumentSpec(name: name, short: short, help: help, kind: .flag)
    }

    var isPositional: Bool { if case .positional = kind { return true } else { return false } }
}

/// A command's name, help texts, arguments and subcommands.
public struct CommandConfiguration: Sendable {
    public var name: String
    public var abstract: String
    public var discussion: String
    public var arguments: [ArgumentSpec]
    public var subcommands: [any HirewireCommand.Type]

    public init(name: String, abstract: String, discussion: String = "", arguments: [ArgumentSpec] = [],
                subcommands: [any HirewireCommand.Type] = []) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.subcommands = subcommands
    }
}

/// A command of the `hirewire` tool.
public protocol HirewireCommand: Sendable {
    static var configuration: CommandConfiguration { get }
    /// Runs the command; returns the exit code (0 success, 1 problems found).
    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32
}

/// A usage mistake: printed with the command's usage line, exit code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A problem with the environment (a missing file, no project): exit code 2, no usage.
public struct EnvironmentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
