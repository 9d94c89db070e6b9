import Foundation

/// RFC 3339 parsing and formatting, without Foundation's locale-sensitive formatters on the hot path.
public enum Timestamp {
    /// Parses `2026-03-02T14:00:00Z`, `2026-03-02T09:00:00-05:00`, with optional fractional
    /// seconds (a lower-case `t`/`z` is accepted as RFC 3339 allows). Returns nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var n = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                n = n * 10 + Int(c - 48)
            }
            return n
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
              let day = digits(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58,
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = digits(i + 4, 2),
                  oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Formats as RFC 3339 UTC: `2026-03-02T14:00:00Z` (milliseconds only when present).
    /// Hand-rolled: `String(format:)` costs microseconds, and timelines format many times.
    public static func format(_ date: Date) -> String {
        // RFC 3339 has four-digit years: a moment outside 0000–9999 (arithmetic on a huge
        // number) is written as the nearest one it can be, instead of stopping the process.
        let t = date.timeIntervalSince1970.isNaN ? 0 : min(max(date.timeIntervalSince1970, -62_167_219_200), 253_402_300_799.999)
        var whole = t.rounded(.down)
        var millis = Int(((t - whole) * 1000).rounded())
        if millis >= 1000 { whole += 1; millis -= 1000 }
        let secs = Int(whole)
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        // Digits go straight into the string's own storage: this runs for every timeline record.
        return String(unsafeUninitializedCapacity: 24) { out in
            var i = 0
            put(y, 4, out, &i); out[i] = 45; i += 1; put(m, 2, out, &i); out[i] = 45; i += 1; put(d, 2, out, &i); out[i] = 84; i += 1
            put(rem / 3600, 2, out, &i); out[i] = 58; i += 1; put((rem % 3600) / 60, 2, out, &i); out[i] = 58; i += 1
            put(rem % 60, 2, out, &i)
            if millis != 0 { out[i] = 46; i += 1; put(millis, 3, out, &i) }
            out[i] = 90
            return i + 1
        }
    }

    /// Writes `n` as `width` decimal digits at `out[i...]` (years beyond 9999 keep their last four).
    private static func put(_ n: Int, _ width: Int, _ out: UnsafeMutableBufferPointer<UInt8>, _ i: inout Int) {
        var v = n < 0 ? -n : n
        var k = i + width - 1
        while k >= i {
            out[k] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
            k -= 1
        }
        i += width
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The civil date of a day count since 1970-01-01.
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// ``Timestamp/format(_:)`` remembering the last time it formatted: a record's times are
/// mostly one instant (a step's clock, a journey's start), and each is then formatted once.
public struct TimestampMemo {
    private var last: (date: Date, text: String)?

    public init() {}

    public mutating func format(_ date: Date) -> String {
        if let last, last.date == date { return last.text }
        let text = Timestamp.format(date)
        last = (date, text)
        return text
    }
}

