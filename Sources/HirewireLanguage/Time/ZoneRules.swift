import Foundation

/// A zone's UTC offsets as a table of transitions, read once from the system's zone data so
/// that converting between instants and wall-clock time is a binary search instead of a call
/// into ICU (which costs about a microsecond each and dominated timer arming).
///
/// The table covers 1900–2200; instants outside it ask the zone directly.
/// Immutable after `init`, hence `Sendable`.
public final class ZoneRules: Sendable {
    public let zone: TimeZone
    /// Seconds since 1970 at which an offset starts, ascending; `offsets[i]` holds from
    /// `starts[i]` until `starts[i + 1]`.
    private let starts: [Double]
    private let offsets: [Int]
    private let lower: Double
    private let upper: Double

    /// Reads the transitions of `zone` between 1900 and 2200.
    public init(_ zone: TimeZone) {
        self.zone = zone
        lower = -2_208_988_800  // 1900-01-01
        upper = 7_258_118_400  // 2200-01-01
        var starts = [lower]
        var offsets = [zone.secondsFromGMT(for: Date(timeIntervalSince1970: lower))]
        var cursor = Date(timeIntervalSince1970: lower)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < upper, next > cursor {
            let offset = zone.secondsFromGMT(for: next)
            if offset != offsets[offsets.count - 1] {
                starts.append(next.timeIntervalSince1970)
                offsets.append(offset)
            }
            cursor = next
            if starts.count > 20_000 { break }
        }
        self.starts = starts
        self.offsets = offsets
    }

    /// The zone's offset from UTC in seconds at `seconds` since 1970.
    public func offset(at seconds: Double) -> Int {
        guard seconds >= lower, seconds < upper else { return zone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds)) }
        // The last start at or before `seconds`.
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= seconds { lo = mid } else { hi = mid - 1 }
        }
        return offsets[lo]
    }

    /// The first transition strictly after `seconds`, if the table knows one.
    public func transition(after seconds: Double) -> Double? {
        guard seconds >= lower, seconds < upper else {
            return zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: seconds))?.timeIntervalSince1970
        }
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] <= seconds { lo = mid + 1 } else { hi = mid }
        }
        return lo < starts.count ? starts[lo] : nil
    }

    /// The rules of `zone`, built once per zone identifier for the life of the process.
    public static func of(_ zone: TimeZone) -> ZoneRules { cache.rules(zone) }

    private static let cache = RulesCache()
}

/// Zone rules by identifier (building one reads a few hundred transitions).
private final class RulesCache: @unchecked Sendable {
    // @unchecked: `rules` is only touched under `lock`; ZoneRules is immutable.
    private let lock = NSLock()
    private var rules: [String: ZoneRules] = [:]

    func rules(_ zone: TimeZone) -> ZoneRules {
        lock.lock()
        defer { lock.unlock() }
        if let known = rules[zone.identifier] { return known }
        let built = ZoneRules(zone)
        if rules.count < 1000 { rules[zone.identifier] = built }
        return built
    }
}
