import Foundation
import HirewireLanguage
import XCTest

/// A flow's version changes with its meaning and only then.
final class FlowVersionTests: XCTestCase {
    func version(_ text: String) throws -> String { FlowVersion.of(try YAMLLoader.load(text, file: "f.yaml")) }

    func testFormattingAndKeyOrderDoNotMakeANewVersion() throws {
        let a = try version("flow: f\nstart: {on: candidate.applied, key: application.id}\ninitial: a\nstates:\n  a: {on: {offer.viewed: b}}\n  b: {end: done}\n")
        let b = try version("# a comment\nstates:\n  b: {end: done}\n  a:\n    on: {\"offer.viewed\": b}\ninitial: a\nstart: {key: application.id, on: candidate.applied}\nflow: f\n")
        XCTAssertEqual(a, b)
    }

    /// Without `initial:` the first state is where journeys start: swapping the states is a new
    /// flow (it hashed the same, so journeys of the old one seemed to be on the new).
    func testTheOrderOfStatesCountsWhenItPicksTheInitialState() throws {
        let a = try version("flow: f\nstart: {on: candidate.applied, key: application.id}\nstates:\n  a: {on: {offer.viewed: b}}\n  b: {on: {offer.viewed: a}}\n")
        let b = try version("flow: f\nstart: {on: candidate.applied, key: application.id}\nstates:\n  b: {on: {offer.viewed: a}}\n  a: {on: {offer.viewed: b}}\n")
        XCTAssertNotEqual(a, b)
        // Written out, the initial state is the same whatever the order.
        XCTAssertEqual(try version("flow: f\ninitial: a\nstates:\n  a: {end: x}\n  b: {end: y}\n"),
                       try version("flow: f\ninitial: a\nstates:\n  b: {end: y}\n  a: {end: x}\n"))
    }

    /// A `let` name sees only the names before it, so their order is part of the meaning.
    func testTheOrderOfLetNamesCounts() throws {
        let a = try version("flow: f\nlet:\n  x: candidate.first_name\n  y: x ?? \"there\"\nstates: {a: {end: done}}\n")
        let b = try version("flow: f\nlet:\n  y: x ?? \"there\"\n  x: candidate.first_name\nstates: {a: {end: done}}\n")
        XCTAssertNotEqual(a, b)
    }
}

/// One way of writing each expression, keeping exactly the parentheses its meaning needs.
final class ExprPrinterTests: XCTestCase {
    func printed(_ text: String) throws -> String { ExprPrinter.print(try ExprParser.parse(text)) }

    func testParenthesesOnlyWhereTheMeaningNeedsThem() throws {
        for (text, expected) in [
            ("(a - b) - c", "a - b - c"), ("a - (b - c)", "a - (b - c)"), ("a ?? (b ?? c)", "a ?? b ?? c"), ("(a ?? b) ?? c", "(a ?? b) ?? c"),
            ("!(a && b)", "!(a && b)"), ("(a || b) && c", "(a || b) && c"), ("a || (b && c)", "a || b && c"),
            ("(x ? 1 : 2) + 1", "(x ? 1 : 2) + 1"), ("'exec'!=offer.tier", "\"exec\" != offer.tier"), ("first(list).id", "first(list).id"),
            ("offer.expires_at - 24h", "offer.expires_at - 1d"), ("(a + b) * c", "(a + b) * c"), ("-(a + b)", "-(a + b)"),
            ("list[0]", "list[0]"), ("x in [1, 'a']", "x in [1, \"a\"]"),
        ] {
            let out = try printed(text)
            XCTAssertEqual(out, expected, text)
            // What is printed reads back as the same expression.
            XCTAssertEqual(try printed(out), out, text)
        }
    }
}
