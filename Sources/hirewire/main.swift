import Foundation
import HirewireCLI

// Exit codes: 0 success, 1 problems found, 2 usage or environment error.
let status = await HirewireMain.run(arguments: Array(CommandLine.arguments.dropFirst()))
exit(status)
