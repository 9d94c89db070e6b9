import Foundation
import XCTest
@testable import HirewireLanguage

final class ExpressionTests: XCTestCase {
    let data: Value = [
        "candidate": ["id": "c1", "first_name": "Ada", "preferred_name": nil, "email": "ada@example.com", "tags": ["vip", "eu"]],
        "assessment": ["score": 72, "max_score": 90],
        "offer": ["id": "o1", "expires_at": "2026-03-09T17:00:00Z", "tier": "B"],
        "event": ["data": ["offer": ["id": "o1"]], "type": "offer.accepted"],
        "application": ["id": "a1"],
    ]

    func eval(_ text: String, now: Date = Date(timeIntervalSince1970: 1_772_000_000)) throws -> Value {
        let compiled = try CompiledExpression.compile(text)
        return compiled.evaluate(ExprContext(roots: data.objectValue ?? [:], now: now))
    }

    func error(_ text: String, scope: any ExprScope = OpenScope()) -> ExprError? {
        do {
            _ = try CompiledExpression.compile(text, scope: scope)
            return nil
        } catch {
            return error
        }
    }

    /// A duration longer than 100 years is refused where it is written; a moment arithmetic
    /// pushes past year 9999 is still written as a date (formatting it stopped the process).
    func testHugeDurationsAreRefusedAndHugeMomentsStillFormat() throws {
        XCTAssertEqual(error("now() + 999999999999999999999d")?.message, "a duration of at most 100 years (36525d), not 999999999999999999999d")
        XCTAssertEqual(error("now() + 999999999999999999999d")?.offset, 8)
        XCTAssertNil(error("now() + 36525d"))
        if case .failure(let problem) = DurationSyntax.parse("99999999999d") { XCTAssertTrue(problem.message.contains("at most 100 years")) } else { XCTFail() }
        let far = try eval("now() + 5000w * 1000000")
        XCTAssertEqual(far.asTimestamp.map(Timestamp.format), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: -1e30)), "0000-01-01T00:00:00Z")
    }

    func testSpecExamples() throws {
        XCTAssertEqual(try eval("candidate.preferred_name ?? candidate.first_name"), "Ada")
        XCTAssertEqual(try eval("event.data.offer.id == offer.id"), true)
        XCTAssertEqual(try eval("offer.tier != \"exec\""), true)
        XCTAssertEqual(try eval("offer.expires_at - 24h"), .timestamp(Timestamp.parse("2026-03-08T17:00:00Z") ?? Date()))
        XCTAssertEqual(try eval("assessment.score >= 80"), false)
        XCTAssertEqual(try eval("assessment.score / assessment.max_score * 100 >= 80"), true)
    }

    func testMissingPathIsNullAndNullComparisonsAreFalse() throws {
        XCTAssertEqual(try eval("candidate.phone"), .null)
        XCTAssertEqual(try eval("nothing.at.all"), .null)
        XCTAssertEqual(try eval("candidate.phone == null"), true)
        XCTAssertEqual(try eval("candidate.phone < 3"), false)
        XCTAssertEqual(try eval("candidate.phone >= 3"), false)
        XCTAssertEqual(try eval("has(candidate.phone)"), false)
        XCTAssertEqual(try eval("has(candidate.email)"), true)
        XCTAssertEqual(try eval("!has(candidate.phone)"), true)
    }

    func testPrecedence() throws {
        XCTAssertEqual(try eval("1 + 2 * 3"), 7)
        XCTAssertEqual(try eval("(1 + 2) * 3"), 9)
        XCTAssertEqual(try eval("10 - 4 - 3"), 3)
        XCTAssertEqual(try eval("true || false && false"), true)
        XCTAssertEqual(try eval("assessment.missing ?? 50 >= 50"), true)
        XCTAssertEqual(try eval("1 < 2 ? \"a\" : \"b\""), "a")
        XCTAssertEqual(try eval("false ? 1 : true ? 2 : 3"), 2)
        XCTAssertEqual(try eval("null ?? null ?? 3"), 3)
        XCTAssertEqual(try eval("-2 * 3"), -6)
        XCTAssertEqual(try eval("7 % 4"), 3)
    }

    func testFunctions() throws {
        XCTAssertEqual(try eval("lower(\"AbC\") + upper('x')"), "abcX")
        XCTAssertEqual(try eval("trim('  hi ')"), "hi")
        XCTAssertEqual(try eval("contains(candidate.tags, 'vip')"), true)
        XCTAssertEqual(try eval("contains(candidate.email, '@example')"), true)
        XCTAssertEqual(try eval("starts_with(candidate.email, 'ada')"), true)
        XCTAssertEqual(try eval("ends_with(candidate.email, '.org')"), false)
        XCTAssertEqual(try eval("len(candidate.tags)"), 2)
        XCTAssertEqual(try eval("len('héllo')"), 5)
        XCTAssertEqual(try eval("matches(candidate.email, '^[a-z]+@')"), true)
        XCTAssertEqual(try eval("first(candidate.tags)"), "vip")
        XCTAssertEqual(try eval("first([])"), .null)
        XCTAssertEqual(try eval("coalesce(candidate.preferred_name, null, 'x')"), "x")
        XCTAssertEqual(try eval("string(42)"), "42")
        XCTAssertEqual(try eval("string(4.5)"), "4.5")
        XCTAssertEqual(try eval("number('12.5')"), 12.5)
        XCTAssertEqual(try eval("number('twelve')"), .null)
        XCTAssertEqual(try eval("now()", now: Date(timeIntervalSince1970: 0)), .timestamp(Date(timeIntervalSince1970: 0)))
        XCTAssertEqual(try eval("'vip' in candidate.tags"), true)
        XCTAssertEqual(try eval("'da' in candidate.first_name"), true)
        XCTAssertEqual(try eval("'x' in candidate.phone"), false)
    }

    func testFunctionsGivenNullReturnNull() throws {
        for call in ["lower(candidate.phone)", "len(candidate.phone)", "contains(candidate.phone, 'x')",
                     "days_between(candidate.phone, offer.expires_at)", "string(candidate.phone)", "matches(candidate.phone, 'x')"] {
            XCTAssertEqual(try eval(call), .null, call)
        }
    }

    func testDaysBetweenTruncatesTowardZero() throws {
        XCTAssertEqual(try eval("days_between('2026-03-01T00:00:00Z', '2026-03-03T23:59:00Z')"), 2)
        XCTAssertEqual(try eval("days_between('2026-03-03T23:59:00Z', '2026-03-01T00:00:00Z')"), -2)
        XCTAssertEqual(try eval("days_between(offer.expires_at, offer.expires_at + 1d12h)"), 1)
    }

    func testTimestampsAndDurations() throws {
        XCTAssertEqual(try eval("offer.expires_at + 1w - 1d"), .timestamp(Timestamp.parse("2026-03-15T17:00:00Z") ?? Date()))
        XCTAssertEqual(try eval("offer.expires_at - '2026-03-08T17:00:00Z'"), .duration(86400))
        XCTAssertEqual(try eval("offer.expires_at > '2026-03-01T00:00:00+01:00'"), true)
        XCTAssertEqual(try eval("1d12h == 36h"), true)
        XCTAssertEqual(try eval("90s + 15m"), .duration(990))
        XCTAssertEqual(try eval("offer.tier - 1h"), .null)
    }

    func testStringsAndEscapes() throws {
        XCTAssertEqual(try eval(#""a\"b\\c\n\u00e9""#), "a\"b\\c\né")
        XCTAssertEqual(try eval("'it\\'s'"), "it's")
        XCTAssertEqual(try eval("'Ada' == 'ada'"), false)
    }

    func testDivisionByZeroIsNull() throws {
        XCTAssertEqual(try eval("1 / 0"), .null)
        XCTAssertEqual(try eval("1 % 0"), .null)
    }

    func testParseErrorsHaveExactColumns() {
        XCTAssertEqual(error("a ==")?.offset, 4)
        XCTAssertEqual(error("(a == b")?.message, "expected ')' to close '(' opened at column 1, found end of expression")
        XCTAssertEqual(error("a = b")?.offset, 2)
        XCTAssertEqual(error("a & b")?.message, "'&' is not an operator; use '&&'")
        XCTAssertEqual(error("'open")?.offset, 0)
        XCTAssertEqual(error("48x")?.offset, 2)
        XCTAssertEqual(error("12hm")?.offset, 3)
        XCTAssertEqual(error("a b")?.offset, 2)
        XCTAssertEqual(error("a < b < c")?.message, "comparisons do not chain; use && between them")
        XCTAssertEqual(error("#")?.message, "unexpected character '#'")
        XCTAssertEqual(error("")?.message, "empty expression")
        XCTAssertEqual(error("f(1,")?.offset, 4)
    }

    func testTypeErrors() {
        XCTAssertEqual(error("\"a\" - 1")?.code, "expression-type")
        XCTAssertEqual(error("\"a\" - 1")?.offset, 6)
        XCTAssertEqual(error("1 + true")?.code, "expression-type")
        XCTAssertEqual(error("'2026-03-01T00:00:00Z' + 1")?.code, "expression-type")
        XCTAssertEqual(error("!'x'")?.code, "expression-type")
        XCTAssertEqual(error("1 == 'a'")?.code, "expression-type")
        XCTAssertEqual(error("has(1 + 2)")?.code, "expression-type")
        XCTAssertEqual(error("lowr(x)")?.message, "unknown function 'lowr' (did you mean 'lower'?)")
        XCTAssertEqual(error("len(a, b)")?.code, "wrong-arity")
        XCTAssertEqual(error("x + len()")?.offset, 4)
        XCTAssertEqual(error("header('X')")?.message, "header() is only available in source files")
        XCTAssertEqual(error("matches(x, '[')")?.offset, 11)
        XCTAssertNil(error("header('X') ?? sha256(body)", scope: OpenScope(sourceMode: true)))
    }

    func testSourceFunctions() throws {
        let e = try CompiledExpression.compile("header('greenhouse-event-id') ?? sha256(body)", scope: OpenScope(sourceMode: true))
        XCTAssertEqual(e.evaluate(ExprContext(roots: [:], headers: ["greenhouse-event-id": "g1"], bodySHA256: "ff")), "g1")
        XCTAssertEqual(e.evaluate(ExprContext(roots: [:], headers: [:], bodySHA256: "ff")), "ff")
    }

    func testNoTruthinessAtRunTime() throws {
        let e = try CompiledExpression.compile("candidate.first_name && true")
        XCTAssertFalse(e.holds(ExprContext(roots: data.objectValue ?? [:])))
    }

    func testParserNeverCrashesOnRandomInput() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab.()[]'\"\\!=<>&|?:+-*/% 0123456789hdnul,tr")
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<20, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "a" })
            if let e = try? CompiledExpression.compile(text) {
                _ = e.evaluate(ExprContext(roots: data.objectValue ?? [:]))
            } else {
                XCTAssertLessThanOrEqual(error(text)?.offset ?? 0, text.count, text)
            }
        }
    }
}
