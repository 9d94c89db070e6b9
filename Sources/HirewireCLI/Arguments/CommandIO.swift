import Foundation
import Synchronization

/// Where a command writes: machine output to `out`, errors and notes to `err`. The real tool
/// writes to the process's stdout and stderr; tests capture both.
public struct CommandIO: Sendable {
    public let out: @Sendable (String) -> Void
    public let err: @Sendable (String) -> Void
    /// Reads standard input (for `eval` without `--data`).
    public let readInput: @Sendable () -> Data
    /// True when stdout is a terminal (colour and similar niceties).
    public let isTerminal: Bool
    /// The directory relative paths are resolved against.
    public let workingDirectory: String

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
                readInput: @escaping @Sendable () -> Data = { Data() }, isTerminal: Bool = false,
                workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.out = out
        self.err = err
        self.readInput = readInput
        self.isTerminal = isTerminal
        self.workingDirectory = workingDirectory
    }

    /// The process's standard streams.
    public static var standard: CommandIO {
        CommandIO(out: { FileHandle.standardOutput.write(Data($0.utf8)) },
                  err: { FileHandle.standardError.write(Data($0.utf8)) },
                  readInput: { FileHandle.standardInput.readDataToEndOfFile() },
                  isTerminal: isatty(1) == 1)
    }
}

/// Collects what a command writes, for tests.
public final class CapturedOutput: Sendable {
    private let state = Mutex<(out: String, err: String)>(("", ""))

    public init() {}

    /// A `CommandIO` writing into this capture.
    public func io(input: Data = Data(), workingDirectory: String = FileManager.default.currentDirectoryPath) -> CommandIO {
        CommandIO(out: { text in self.state.withLock { $0.out += text } },
                  err: { text in self.state.withLock { $0.err += text } },
                  readInput: { input }, workingDirectory: workingDirectory)
    }

    public var out: String { state.withLock { $0.out } }
    public var err: String { state.withLock { $0.err } }
}
