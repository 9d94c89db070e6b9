import Foundation
import XCTest
@testable import HirewireCLI

final class ArgumentTests: XCTestCase {
    let specs: [ArgumentSpec] = [
        .positional("flow", help: "f"),
        .positional("paths", help: "p", required: false, variadic: true),
        .option("format", help: "x", allowed: ["text", "json"], defaultValue: "text"),
        .option("since", help: "s"),
        .option("limit", short: "n", help: "l"),
        .flag("all", help: "a"),
    ]

    func testKinds() throws {
        let p = try ArgumentParser.parse(["f1", "a", "b", "--format=json", "--since", "-2h", "-n", "5", "--all"], specs: specs)
        XCTAssertEqual(p.positional("flow"), "f1")
        XCTAssertEqual(p.positionalList("paths"), ["a", "b"])
        XCTAssertEqual(p.option("format"), "json")
        XCTAssertEqual(p.option("since"), "-2h")
        XCTAssertEqual(try p.intOption("limit"), 5)
        XCTAssertTrue(p.flag("all"))
    }

    /// A negative count is a usage error (`--limit -1` trapped taking a negative prefix).
    func testNegativeNumbersAreRefused() throws {
        let p = try ArgumentParser.parse(["f1", "--limit=-1"], specs: specs)
        XCTAssertThrowsError(try p.intOption("limit")) { error in
            XCTAssertTrue("\(error)".contains("0 or more"), "\(error)")
        }
        XCTAssertEqual(try ArgumentParser.parse(["f1", "-n", "0"], specs: specs).intOption("limit"), 0)
    }

    /// `inspect` shows the last attempt's failure with the verdict after it, not the verdict alone.
    func testTheLastFailureOfAnErrorChain() {
        XCTAssertEqual(InspectCommand.lastFailure("attempt 1: timed out\nattempt 2: blocked: 10.0.0.1 is private\n(permanent: not retried)"),
                       "attempt 2: blocked: 10.0.0.1 is private (permanent: not retried)")
        XCTAssertEqual(InspectCommand.lastFailure("attempt 1: timed out"), "attempt 1: timed out")
    }

    /// A pid file naming a process that is not a Hirewire server (a stale file whose pid was
    /// reused) is not signalled, nor overwritten by a second server while the first runs.
    func testAStalePidFileIsNotSignalled() throws {
        let root = NSTemporaryDirectory() + "hirewire-pid-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        try FileManager.default.createDirectory(atPath: root + "/.hirewire", withIntermediateDirectories: true)
        try "\(sleeper.processIdentifier)\n".write(toFile: ServerPidFile.path(root), atomically: true, encoding: .utf8)
        XCTAssertFalse(ServerPidFile.signalRunning(root: root, SIGTERM))
        XCTAssertTrue(sleeper.isRunning, "the unrelated process was not signalled")
        // Not a server: this process takes the file over, and removes only its own.
        ServerPidFile.write(root: root)
        XCTAssertEqual(ServerPidFile.pid(root), getpid())
        ServerPidFile.remove(root: root)
        XCTAssertNil(ServerPidFile.pid(root))
    }

    func testDefaultsAndDoubleDash() throws {
        let p = try ArgumentParser.parse(["--", "--weird-name"], specs: specs)
        XCTAssertEqual(p.positional("flow"), "--weird-name")
        XCTAssertEqual(p.option("format"), "text")
        XCTAssertFalse(p.flag("all"))
    }

    func testErrors() {
        func message(_ words: [String]) -> String? {
            do { _ = try ArgumentParser.parse(words, specs: specs); return nil } catch { return error.message }
        }
        XCTAssertEqual(message([]), "missing argument <flow>")
        XCTAssertEqual(message(["f", "--fromat", "json"]), "unknown option '--fromat' (did you mean '--format'?)")
        XCTAssertEqual(message(["f", "--format", "xml"]), "invalid value 'xml' for --format; expected one of text, json")
        XCTAssertEqual(message(["f", "--since"]), "--since needs a value (SINCE)")
        XCTAssertEqual(message(["f", "--all=yes"]), "--all takes no value")
        XCTAssertEqual(message(["f", "-z"]), "unknown option '-z'")
    }

    func testDispatchHelpAndUsageErrors() async {
        let root = await hirewire(["--help"])
        XCTAssertEqual(root.code, 0)
        XCTAssertTrue(root.out.contains("SUBCOMMANDS:"))
        XCTAssertTrue(root.out.contains("validate"))
        let help = await hirewire(["help", "graph"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.out.contains("USAGE: hirewire graph <flow> [--format <format>]"), help.out)
        XCTAssertTrue(help.out.contains("(values: mermaid, dot)"))
        let typo = await hirewire(["grpah"])
        XCTAssertEqual(typo.code, 2)
        XCTAssertTrue(typo.err.contains("unknown command 'grpah' (did you mean 'graph'?)"), typo.err)
        let usage = await hirewire(["eval"])
        XCTAssertEqual(usage.code, 2)
        XCTAssertTrue(usage.err.contains("missing argument <expression>"))
        XCTAssertTrue(usage.err.contains("USAGE: hirewire eval"))
        for command in ["validate", "graph", "eval", "render"] {
            let r = await hirewire([command, "--help"])
            XCTAssertEqual(r.code, 0, command)
            XCTAssertTrue(r.out.hasPrefix("OVERVIEW: "), command)
        }
    }

    /// An option a command cannot run without is shown bare in its usage line; leaving it out
    /// is a usage error, and `--help` still answers without it.
    func testRequiredOptionsAreShownAndEnforced() async {
        let missing = await hirewire(["erase"])
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.err.hasPrefix("error: missing --candidate\nUSAGE: hirewire erase --candidate <id> [--db <path>]"), missing.err)
        let help = await hirewire(["sign", "--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.out.contains("USAGE: hirewire sign <file> --scheme <scheme> --secret <k> [--id <id>]"), help.out)
    }
}
