import Foundation
import Synchronization

/// A calendar date in some zone (no time, no zone attached).
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var dayNumber: Int

    public init(dayNumber: Int) { self.dayNumber = dayNumber }

    public init(year: Int, month: Int, day: Int) {
        dayNumber = Timestamp.daysFromCivil(year: year, month: month, day: day)
    }

    /// Parses `YYYY-MM-DD`.
    public static func parse(_ text: String) -> LocalDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= Timestamp.daysIn(month: m, year: y)
        else { return nil }
        return LocalDate(year: y, month: m, day: d)
    }

    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int { ((dayNumber % 7) + 7 + 4) % 7 }

    public var description: String {
        let (y, m, d) = Timestamp.civilFromDays(dayNumber)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }
}

/// Converts between instants and wall-clock time in a zone, handling daylight-saving gaps and
/// overlaps: a wall time that does not exist (spring forward) maps to the first instant after
/// the gap; one that exists twice (fall back) maps to its earlier occurrence.
public struct ZoneClock: Sendable {
    public let zone: TimeZone
    /// The zone's transitions, shared by every clock of the same zone.
    public let rules: ZoneRules

    public init(_ zone: TimeZone) {
        self.zone = zone
        rules = ZoneRules.of(zone)
    }

    /// The local date and the seconds since local midnight of an instant.
    public func local(_ instant: Date) -> (date: LocalDate, seconds: Double) {
        let t = instant.timeIntervalSince1970
        let wall = t + Double(rules.offset(at: t))
        let day = Int((wall / 86400).rounded(.down))
        return (LocalDate(dayNumber: day), wall - Double(day) * 86400)
    }

    /// The instant of `minute` minutes after local midnight on `date` (1440 = next midnight).
    public func instant(_ date: LocalDate, minute: Int) -> Date {
        let wall = Double(date.dayNumber) * 86400 + Double(minute) * 60
        let before = rules.offset(at: wall - 86400), after = rules.offset(at: wall + 86400)
        // A wall time is valid for an offset when that offset holds at the instant it names;
        // of two valid readings (fall back) the earlier instant wins.
        var earliest: Double?
        func consider(_ offset: Int) {
            let t = wall - Double(offset)
            if rules.offset(at: t) == offset, earliest.map({ t < $0 }) ?? true { earliest = t }
        }
        consider(before)
        if after != before { consider(after) }
        if let earliest { return Date(timeIntervalSince1970: earliest) }
        // In a gap: the first valid instant is the transition itself.
        let start = wall - Double(max(before, after)) - 7200
        return Date(timeIntervalSince1970: rules.transition(after: start) ?? wall - Double(before))
    }
}

/// `HH:MM` wall-clock times.
public enum LocalTimeSyntax {
    /// Minutes after midnight for `00:00`…`24:00`, or nil.
    public static func parse(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m),
              h < 24 || m == 0
        else { return nil }
        return h * 60 + m
    }

    static func minutes(_ text: Located<String>, reader: NodeReader) -> Int? {
        guard let m = parse(text.value) else {
            reader.error("'\(text.value)' is not a time of day such as \"20:00\"", at: text.location, code: "invalid-time")
            return nil
        }
        return m
    }
}

/// Resolves IANA zone names.
public enum ZoneNames {
    /// The zone for an IANA name (`Europe/London`, `America/New_York`, `UTC`), or nil. Bare
    /// abbreviations such as `EST` or `BST` are refused: they are ambiguous and ignore daylight saving.
    public static func zone(_ name: String) -> TimeZone? { clock(name)?.zone }

    /// The wall clock of the zone named `name` (its transition table read once), or nil.
    public static func clock(_ name: String) -> ZoneClock? {
        guard name == "UTC" || name == "Etc/UTC" || name == "GMT" || name.utf8.contains(UInt8(ascii: "/")) else { return nil }
        return cache.clock(name)
    }

    private static let cache = ZoneCache()
}

/// Zone clocks by name, created once: a step may resolve the same zone many times.
private final class ZoneCache: Sendable {
    private let clocks = Mutex<[String: ZoneClock?]>([:])

    func clock(_ name: String) -> ZoneClock? {
        if let known = clocks.withLock({ $0[name] }) { return known }
        // Read outside the lock: two threads may both read a new zone, and one keeps it.
        let clock = TimeZone(identifier: name).map(ZoneClock.init)
        clocks.withLock { if $0.count < 1000 { $0[name] = clock } }
        return clock
    }
}
