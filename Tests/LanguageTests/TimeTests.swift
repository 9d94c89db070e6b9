import Foundation
import XCTest
@testable import HirewireLanguage

final class TimeTests: XCTestCase {
    func t(_ text: String) -> Date { Timestamp.parse(text) ?? Date.distantPast }

    func zone(_ name: String) throws -> TimeZone { try XCTUnwrap(ZoneNames.zone(name)) }

    func businessHours(_ zoneName: String, holidays: [String] = []) throws -> BusinessCalendar {
        guard case .success(let hours) = WeeklyHours.parse([("mon-fri", "09:00-17:30")]) else { throw XCTSkip("hours") }
        return BusinessCalendar(zone: try zone(zoneName), hours: hours, holidays: Set(holidays.compactMap(LocalDate.parse)))
    }

    func testDurations() {
        func seconds(_ text: String) -> Double? { if case .success(let s) = DurationSyntax.parse(text) { return s } else { return nil } }
        XCTAssertEqual(seconds("90s"), 90)
        XCTAssertEqual(seconds("15m"), 900)
        XCTAssertEqual(seconds("48h"), 172_800)
        XCTAssertEqual(seconds("2d"), 172_800)
        XCTAssertEqual(seconds("1w"), 604_800)
        XCTAssertEqual(seconds("1d12h"), 129_600)
        XCTAssertEqual(seconds("1h30m"), 5400)
        XCTAssertNil(seconds("12"))
        XCTAssertNil(seconds("1h1d"))
        XCTAssertNil(seconds("h"))
        if case .failure(let p) = DurationSyntax.parse("3x") { XCTAssertEqual(p.offset, 1) } else { XCTFail() }
        if case .failure(let p) = DurationSyntax.parse("1h1d") { XCTAssertEqual(p.offset, 3) } else { XCTFail() }
        XCTAssertEqual(DurationFormat.format(129_600), "1d12h")
    }

    func testFriday16LondonPlus36hLandsMonday0900() throws {
        let calendar = try businessHours("Europe/London")
        let friday = t("2026-03-06T16:00:00Z")          // Friday 16:00 GMT
        let due = friday.addingTimeInterval(36 * 3600)   // Sunday 04:00
        XCTAssertEqual(calendar.nextOpen(atOrAfter: due), t("2026-03-09T09:00:00Z"))
    }

    func testLondonSpringForward() throws {
        let calendar = try businessHours("Europe/London")
        // Clocks go forward at 01:00 UTC on Sunday 2026-03-29: Monday 09:00 is 08:00 UTC.
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-03-28T12:00:00Z")), t("2026-03-30T08:00:00Z"))
        XCTAssertTrue(calendar.isOpen(at: t("2026-03-30T16:29:00Z")))
        XCTAssertFalse(calendar.isOpen(at: t("2026-03-30T16:30:00Z")))
        // A wall time inside the gap (01:30 local) maps to the first instant after it.
        let clock = ZoneClock(try zone("Europe/London"))
        XCTAssertEqual(clock.instant(try XCTUnwrap(LocalDate.parse("2026-03-29")), minute: 90), t("2026-03-29T01:00:00Z"))
    }

    func testLondonFallBack() throws {
        let calendar = try businessHours("Europe/London")
        // Clocks go back at 01:00 UTC on Sunday 2026-10-25: Friday 17:30 BST is 16:30 UTC, Monday 09:00 GMT is 09:00 UTC.
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-10-23T16:30:00Z")), t("2026-10-26T09:00:00Z"))
        // 01:30 happens twice; the earlier occurrence (BST) is chosen.
        let clock = ZoneClock(try zone("Europe/London"))
        XCTAssertEqual(clock.instant(try XCTUnwrap(LocalDate.parse("2026-10-25")), minute: 90), t("2026-10-25T00:30:00Z"))
    }

    func testNewYorkTransitions() throws {
        let calendar = try businessHours("America/New_York")
        // 2026-03-08 spring forward: Monday 09:00 EDT = 13:00 UTC (the Friday before was 14:00 UTC).
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-03-06T22:31:00Z")), t("2026-03-09T13:00:00Z"))
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-03-06T13:00:00Z")), t("2026-03-06T14:00:00Z"))
        // 2026-11-01 fall back: Monday 09:00 EST = 14:00 UTC.
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-10-31T12:00:00Z")), t("2026-11-02T14:00:00Z"))
    }

    func testHolidaysSkipWholeDays() throws {
        let calendar = try businessHours("Europe/London", holidays: ["2026-12-25", "2026-12-28"])
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-12-24T18:00:00Z")), t("2026-12-29T09:00:00Z"))
    }

    func testInsideHoursIsImmediate() throws {
        let calendar = try businessHours("Europe/London")
        XCTAssertEqual(calendar.nextOpen(atOrAfter: t("2026-03-04T10:15:00Z")), t("2026-03-04T10:15:00Z"))
    }

    func testCalendarWithoutHours() throws {
        let calendar = BusinessCalendar(zone: try zone("UTC"), hours: WeeklyHours(days: Array(repeating: [], count: 7)))
        XCTAssertNil(calendar.nextOpen(atOrAfter: t("2026-03-04T10:15:00Z")))
    }

    func testWeeklyHoursParsing() {
        guard case .success(let h) = WeeklyHours.parse([("mon-fri", "09:00-12:00, 13:00-17:30"), ("sat,sun", "10:00-14:00"), ("fri-mon", "08:00-09:00")]) else {
            return XCTFail()
        }
        XCTAssertEqual(h.days[1], [480..<720, 780..<1050])   // Monday: fri-mon adds 08:00-09:00, merged with 09:00
        XCTAssertEqual(h.days[3], [540..<720, 780..<1050])   // Wednesday
        XCTAssertEqual(h.days[0], [480..<540, 600..<840])    // Sunday
        if case .failure(let p) = WeeklyHours.parse([("mon-fry", "09:00-17:00")]) { XCTAssertTrue(p.inDays) } else { XCTFail() }
        if case .failure(let p) = WeeklyHours.parse([("mon", "17:00-09:00")]) { XCTAssertFalse(p.inDays) } else { XCTFail() }
        if case .failure(let p) = WeeklyHours.parse([("mon", "9-17")]) { XCTAssertFalse(p.inDays) } else { XCTFail() }
    }

    func testQuietHoursWrapMidnightInCandidateZone() throws {
        let quiet = QuietHours(fromMinute: 20 * 60, toMinute: 8 * 60, zone: try zone("America/New_York"))
        // 21:30 EST = 02:30 UTC next day → allowed at 08:00 EST = 13:00 UTC.
        XCTAssertTrue(quiet.isQuiet(at: t("2026-01-15T02:30:00Z")))
        XCTAssertEqual(quiet.nextAllowed(atOrAfter: t("2026-01-15T02:30:00Z")), t("2026-01-15T13:00:00Z"))
        // 06:00 EST = 11:00 UTC → 08:00 the same morning.
        XCTAssertEqual(quiet.nextAllowed(atOrAfter: t("2026-01-15T11:00:00Z")), t("2026-01-15T13:00:00Z"))
        XCTAssertFalse(quiet.isQuiet(at: t("2026-01-15T17:00:00Z")))
    }

    /// Quiet hours ending inside the hour a fall-back repeats end at that time's second
    /// occurrence for an instant in the repeat, never before the instant.
    func testQuietHoursEndingInTheRepeatedHour() throws {
        let quiet = QuietHours(fromMinute: 22 * 60, toMinute: 90, zone: try zone("Europe/London"))
        // 25 Oct 2026: 01:00–02:00 BST (00:00–01:00Z), then 01:00–02:00 GMT (01:00–02:00Z).
        XCTAssertEqual(quiet.nextAllowed(atOrAfter: t("2026-10-25T00:10:00Z")), t("2026-10-25T00:30:00Z"), "first pass: 01:30 BST")
        XCTAssertEqual(quiet.nextAllowed(atOrAfter: t("2026-10-25T01:00:00Z")), t("2026-10-25T01:30:00Z"), "second pass: 01:30 GMT")
        for minute in stride(from: 0, to: 180, by: 5) {
            let instant = t("2026-10-24T23:00:00Z").addingTimeInterval(Double(minute * 60))
            XCTAssertGreaterThanOrEqual(quiet.nextAllowed(atOrAfter: instant), instant)
        }
    }

    func testCalendarAndQuietHoursTogether() throws {
        let calendar = try businessHours("Europe/London")
        let quiet = QuietHours(fromMinute: 20 * 60, toMinute: 10 * 60, zone: try zone("Europe/London"))
        XCTAssertEqual(TimeWindows.earliest(atOrAfter: t("2026-03-08T12:00:00Z"), calendar: calendar, quiet: quiet), t("2026-03-09T10:00:00Z"))
    }

    func testZoneNames() {
        XCTAssertNotNil(ZoneNames.zone("Europe/London"))
        XCTAssertNotNil(ZoneNames.zone("UTC"))
        XCTAssertNil(ZoneNames.zone("EST"))
        XCTAssertNil(ZoneNames.zone("Mars/Olympus"))
    }

    func testTimestampParsing() {
        XCTAssertEqual(Timestamp.parse("2026-03-02T09:00:00-05:00"), t("2026-03-02T14:00:00Z"))
        XCTAssertEqual(Timestamp.parse("2026-03-02T14:00:00.250Z")?.timeIntervalSince1970, (t("2026-03-02T14:00:00Z").timeIntervalSince1970 + 0.25))
        XCTAssertNil(Timestamp.parse("2026-02-30T00:00:00Z"))
        XCTAssertNil(Timestamp.parse("2026-03-02"))
        XCTAssertEqual(Timestamp.format(t("2026-03-02T14:00:00Z")), "2026-03-02T14:00:00Z")
    }
}

/// The transition tables behind every wall-clock conversion must agree with the system's zone data.
final class ZoneRulesTests: XCTestCase {
    func testOffsetsAgreeWithTheSystemZoneEveryFewHoursFor2020To2031() throws {
        for name in ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo", "Africa/Casablanca", "UTC"] {
            let zone = try XCTUnwrap(TimeZone(identifier: name))
            let rules = ZoneRules(zone)
            var t = 1_577_836_800.0  // 2020-01-01
            var mismatches = 0
            while t < 1_924_992_000 {  // 2031-01-01
                if rules.offset(at: t) != zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)) { mismatches += 1 }
                t += 3 * 3600 + 17
            }
            XCTAssertEqual(mismatches, 0, name)
        }
    }

    func testOffsetChangesExactlyAtTheTransition() throws {
        let zone = try XCTUnwrap(TimeZone(identifier: "Europe/London"))
        let rules = ZoneRules(zone)
        // 2026-03-29 01:00 UTC: GMT becomes BST.
        let change = 1_774_746_000.0
        XCTAssertEqual(rules.offset(at: change - 1), 0)
        XCTAssertEqual(rules.offset(at: change), 3600)
        XCTAssertEqual(rules.transition(after: change - 10), change)
        XCTAssertEqual(rules.offset(at: -3_000_000_000), zone.secondsFromGMT(for: Date(timeIntervalSince1970: -3_000_000_000)), "outside the table asks the zone")
    }
}
