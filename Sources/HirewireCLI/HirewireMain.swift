import Foundation

/// The `hirewire` command's entry point.
public enum HirewireMain {
    /// Runs the command line and returns the process exit code.
    public static func run(arguments: [String]) async -> Int32 {
        0
    }
}
