import Foundation
import HirewireLanguage

/// `hirewire eval EXPR [--data FILE.json]`
enum EvalCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "eval",
        abstract: "Evaluate an expression against a JSON context and print the result as JSON.",
        discussion: """
            The context's top-level keys are the roots (candidate, offer, event, …); a canonical event file stands \
            for its data. No schema check: any name may be used. Timestamps print as RFC 3339 UTC strings, \
            durations as strings such as "1d12h".
            """,
        arguments: [
            .positional("expression", help: "The expression, quoted for the shell."),
            .option("data", valueName: "FILE", help: "A JSON file with the context (default: standard input)."),
        ])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        guard let text = arguments.positional("expression") else { throw UsageError("missing argument <expression>") }
        let context = try CommandSupport.readData(arguments.option("data"), io)
        let compiled: CompiledExpression
        do {
            compiled = try CompiledExpression.compile(text)
        } catch {
            io.err("error: column \(error.offset + 1): \(error.message) [\(error.code)]\n  \(text)\n  \(String(repeating: " ", count: error.offset))^\n")
            return 1
        }
        let value = compiled.evaluate(ExprContext(roots: context.objectValue ?? [:], now: Date()))
        io.out(value.jsonString(pretty: true) + "\n")
        return 0
    }
}
