import Foundation

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

    public init(_ zone: TimeZone) { self.zone = zone }

    /// The local date and the seconds since local midnight of an instant.
    public func local(_ instant: Date) -> (date: LocalDate, seconds: Double) {
        let wall = instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))
        let day = Int((wall / 86400).rounded(.down))
        return (LocalDate(dayNumber: day), wall - Double(day) * 86400)
    }

    /// The instant of `minute` minutes after local midnight on `date` (1440 = next midnight).
    public func instant(_ date: LocalDate, minute: Int) -> Date {
        let wall = Double(date.dayNumber) * 86400 + Double(minute) * 60
        let offsets = [zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 86400)),
                       zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 86400))]
        var valid: [Double] = []
        for offset in Set(offsets) {
            let t = wall - Double(offset)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)) == offset { valid.append(t) }
        }
        if let earliest = valid.min() { return Date(timeIntervalSince1970: earliest) }
        // In a gap: the first valid instant is the transition itself.
        let before = Date(timeIntervalSince1970: wall - Double(offsets.max() ?? 0) - 7200)
        return zone.nextDaylightSavingTimeTransition(after: before) ?? Date(timeIntervalSince1970: wall - Double(offsets[0]))
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
    public static func zone(_ name: String) -> TimeZone? {
        guard name == "UTC" || name == "Etc/UTC" || name == "GMT" || name.contains("/") else { return nil }
        return cache.zone(name)
    }

    private static let cache = ZoneCache()
}

/// Time zones by name, created once: a step may resolve the same zone many times.
private final class ZoneCache: @unchecked Sendable {
    // @unchecked: `zones` is only touched under `lock`; TimeZone values are immutable.
    private let lock = NSLock()
    private var zones: [String: TimeZone?] = [:]

    func zone(_ name: String) -> TimeZone? {
        lock.lock()
        defer { lock.unlock() }
        if let known = zones[name] { return known }
        let zone = TimeZone(identifier: name)
        if zones.count < 1000 { zones[name] = zone }
        return zone
    }
}
