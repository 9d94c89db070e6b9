import Foundation

/// Opening hours per weekday, as minute ranges after local midnight.
public struct WeeklyHours: Sendable, Hashable {
    /// Index 0 = Sunday … 6 = Saturday; each a sorted, merged list of [start, end) minute ranges.
    public var days: [[Range<Int>]]

    public init(days: [[Range<Int>]]) {
        self.days = days.map(WeeklyHours.merge)
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// A problem in an hours entry: which part (`days` or `ranges`) and a message.
    public struct Problem: Error, Sendable {
        public var inDays: Bool
        public var message: String
    }

    /// Parses entries such as `mon-fri: "09:00-17:30"`, `sat,sun: "10:00-14:00"`,
    /// `mon: "09:00-12:00, 13:00-17:00"`. Later entries add to earlier ones.
    public static func parse(_ entries: [(days: String, ranges: String)]) -> Result<WeeklyHours, Problem> {
        var days = Array(repeating: [Range<Int>](), count: 7)
        for entry in entries {
            let selected: [Int]
            switch parseDays(entry.days) {
            case .success(let d): selected = d
            case .failure(let p): return .failure(p)
            }
            var ranges: [Range<Int>] = []
            for part in entry.ranges.split(separator: ",") {
                let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-")
                guard bounds.count == 2, let a = LocalTimeSyntax.parse(String(bounds[0])), let b = LocalTimeSyntax.parse(String(bounds[1])) else {
                    return .failure(Problem(inDays: false, message: "'\(part.trimmingCharacters(in: .whitespaces))' is not a time range such as 09:00-17:30"))
                }
                guard a < b else {
                    return .failure(Problem(inDays: false, message: "the range \(bounds[0])-\(bounds[1]) ends before it starts (ranges do not cross midnight)"))
                }
                ranges.append(a..<b)
            }
            for d in selected { days[d] += ranges }
        }
        return .success(WeeklyHours(days: days))
    }

    private static func parseDays(_ text: String) -> Result<[Int], Problem> {
        var out: [Int] = []
        for item in text.split(separator: ",") {
            let spec = item.trimmingCharacters(in: .whitespaces).lowercased()
            let ends = spec.split(separator: "-").map(String.init)
            let indices = ends.map { name in dayNames.firstIndex(of: String(name.prefix(3))).flatMap { dayNames[$0] == name || fullName($0) == name ? $0 : nil } }
            guard (1...2).contains(ends.count), !indices.contains(where: { $0 == nil }) else {
                return .failure(Problem(inDays: true, message: "'\(spec)' is not a day or day range (mon, tue, … sun; mon-fri; sat,sun)"))
            }
            let first = indices[0] ?? 0, last = indices.last.flatMap { $0 } ?? first
            var d = first
            while true {
                out.append(d)
                if d == last { break }
                d = (d + 1) % 7
            }
        }
        return .success(out)
    }

    private static func fullName(_ index: Int) -> String {
        ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][index]
    }

    static func merge(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// True when no day has any hours.
    public var isEmpty: Bool { !days.contains { !$0.isEmpty } }  // a closure: a key path here ran generic code
}

/// A business calendar: a zone, weekly hours and whole-day holidays.
public struct BusinessCalendar: Sendable {
    public var clock: ZoneClock
    public var hours: WeeklyHours
    public var holidays: Set<LocalDate>

    public init(zone: TimeZone, hours: WeeklyHours, holidays: Set<LocalDate> = []) {
        self.init(clock: ZoneClock(zone), hours: hours, holidays: holidays)
    }

    public init(clock: ZoneClock, hours: WeeklyHours, holidays: Set<LocalDate> = []) {
        self.clock = clock
        self.hours = hours
        self.holidays = holidays
    }

    /// Whether the calendar is open at `instant`.
    public func isOpen(at instant: Date) -> Bool {
        let (date, seconds) = clock.local(instant)
        guard !holidays.contains(date) else { return false }
        let minute = seconds / 60
        return hours.days[date.weekday].contains { Double($0.lowerBound) <= minute && minute < Double($0.upperBound) }
    }

    /// The earliest instant at or after `instant` when the calendar is open; nil when it has no
    /// open hours in the coming 400 days (no hours at all, or holidays covering them).
    public func nextOpen(atOrAfter instant: Date) -> Date? {
        guard !hours.isEmpty else { return nil }
        let startDay = clock.local(instant).date
        for offset in 0..<400 {
            let day = LocalDate(dayNumber: startDay.dayNumber + offset)
            if holidays.contains(day) { continue }
            for range in hours.days[day.weekday] {
                let open = clock.instant(day, minute: range.lowerBound)
                let close = clock.instant(day, minute: range.upperBound)
                let candidate = max(open, instant)
                if candidate < close { return candidate }
            }
        }
        return nil
    }
}

/// Quiet hours: a daily wall-clock period (which may cross midnight) when candidates are not messaged.
public struct QuietHours: Sendable {
    public var fromMinute: Int
    public var toMinute: Int
    public var clock: ZoneClock

    public init(fromMinute: Int, toMinute: Int, zone: TimeZone) {
        self.init(fromMinute: fromMinute, toMinute: toMinute, clock: ZoneClock(zone))
    }

    public init(fromMinute: Int, toMinute: Int, clock: ZoneClock) {
        self.fromMinute = fromMinute
        self.toMinute = toMinute
        self.clock = clock
    }

    /// Whether `instant` falls inside quiet hours. Equal from and to mean no quiet hours.
    public func isQuiet(at instant: Date) -> Bool {
        let minute = clock.local(instant).seconds / 60
        let from = Double(fromMinute), to = Double(toMinute)
        if fromMinute == toMinute { return false }
        return fromMinute < toMinute ? (from <= minute && minute < to) : (minute >= from || minute < to)
    }

    /// `instant` itself when it is not quiet, else the end of the quiet period it falls in.
    public func nextAllowed(atOrAfter instant: Date) -> Date {
        guard isQuiet(at: instant) else { return instant }
        let (date, seconds) = clock.local(instant)
        if fromMinute > toMinute, seconds / 60 >= Double(fromMinute) {
            return clock.instant(LocalDate(dayNumber: date.dayNumber + 1), minute: toMinute)
        }
        let end = clock.instant(date, minute: toMinute)
        // Inside the hour a fall-back repeats, the end's wall-clock time names its first
        // occurrence, already past: the quiet hours end at its second one.
        return end > instant ? end : instant.addingTimeInterval(Double(toMinute * 60) - seconds)
    }
}

/// Combines a calendar and quiet hours.
public enum TimeWindows {
    /// The earliest instant at or after `instant` that is open in `calendar` (when given) and
    /// outside `quiet` hours (when given); nil when the calendar never opens.
    public static func earliest(atOrAfter instant: Date, calendar: BusinessCalendar?, quiet: QuietHours?) -> Date? {
        var t = instant
        for _ in 0..<50 {
            var next = t
            if let calendar {
                guard let open = calendar.nextOpen(atOrAfter: next) else { return nil }
                next = open
            }
            if let quiet { next = quiet.nextAllowed(atOrAfter: next) }
            if next == t, calendar?.isOpen(at: t) ?? true { return t }
            t = next
        }
        return nil
    }
}
