import Foundation

/// The `hirewire` command's entry point.
public enum HirewireMain {
    /// Runs the command line and returns the process exit code.
    public static func run(arguments: [String], io: CommandIO = .standard) async -> Int32 {
        await Dispatcher.run(root: RootCommand.self, arguments: arguments, io: io)
    }
}

/// `hirewire`: lists the commands.
enum RootCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "hirewire",
        abstract: "Declarative workflow engine for recruiting journeys.",
        discussion: "Run in a project folder (one with flows/), or pass --project DIR.",
        subcommands: [ValidateCommand.self, GraphCommand.self, EvalCommand.self, RenderCommand.self, TestCommand.self, SimulateCommand.self,
                      InspectCommand.self, CancelCommand.self, TimersCommand.self, DiffCommand.self, ServeCommand.self,
                      SendCommand.self, SignCommand.self, EventsCommand.self, DeadLettersCommand.self, TasksCommand.self,
                      ReportCommand.self, EraseCommand.self])

    /// Not reached: the dispatcher answers a command line that names no command itself.
    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        throw UsageError("missing command")
    }
}
