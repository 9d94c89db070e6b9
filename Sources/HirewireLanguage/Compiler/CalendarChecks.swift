import Foundation

/// A calendar from hirewire.yaml, compiled: its zone expression is evaluated per journey.
public struct CompiledCalendar: Sendable {
    public var name: String
    public var timezone: CompiledExpression?
    public var hours: WeeklyHours
    public var holidays: Set<LocalDate>

    /// The calendar in the zone `zoneName` names; nil when that is not an IANA zone (the caller
    /// falls back to `default_timezone` and records `bad_timezone`).
    public func calendar(zoneName: String) -> BusinessCalendar? {
        ZoneNames.zone(zoneName).map { BusinessCalendar(zone: $0, hours: hours, holidays: holidays) }
    }
}

/// Checks and compiles the calendars and the default time zone of hirewire.yaml.
struct CalendarChecks {
    let config: ProjectConfig
    let reader: NodeReader

    func run() -> [String: CompiledCalendar] {
        if let zone = config.defaultTimezone, ZoneNames.zone(zone.value) == nil {
            reader.error("default_timezone '\(zone.value)' is not an IANA time zone such as Europe/London", at: zone.location, code: "unknown-timezone")
        }
        var out: [String: CompiledCalendar] = [:]
        let scope = FlowScope.catalogOnly(envNames: config.envNames)
        for spec in config.calendars {
            var ok = true
            var hours = WeeklyHours(days: Array(repeating: [], count: 7))
            switch WeeklyHours.parse(spec.hours.map { ($0.days.value, $0.ranges.value) }) {
            case .success(let h): hours = h
            case .failure(let problem):
                ok = false
                let entry = spec.hours.first { entry in
                    if case .failure = WeeklyHours.parse([(entry.days.value, entry.ranges.value)]) { return true }
                    return false
                }
                let at = entry.map { problem.inDays ? $0.days.location : $0.ranges.location } ?? spec.name.location
                reader.error("calendar '\(spec.name.value)': \(problem.message)", at: at, code: "invalid-calendar")
            }
            if ok, hours.isEmpty {
                reader.error("calendar '\(spec.name.value)' has no open hours", at: spec.name.location, code: "invalid-calendar")
            }
            var holidays: Set<LocalDate> = []
            for day in spec.holidays {
                if let date = LocalDate.parse(day.value) {
                    holidays.insert(date)
                } else {
                    reader.error("holiday '\(day.value)' is not a date such as 2026-12-25", at: day.location, code: "invalid-calendar")
                }
            }
            var zone: CompiledExpression?
            if let source = spec.timezone {
                do {
                    let expr = try ExprParser.parse(source.text)
                    let type = try ExprChecker(scope: scope).check(expr)
                    zone = CompiledExpression(source: source, expr: expr, type: type)
                } catch {
                    // A bare zone name such as Europe/London reads as a division; accept it as a name.
                    if let bare = ZoneSource.bare(source) {
                        zone = bare
                    } else {
                        reader.error(error.message, at: source.location.advanced(by: error.offset), code: error.code)
                    }
                }
                if let zone { ZoneSource.checkLiteral(zone, reader: reader) }
            }
            out[spec.name.value] = CompiledCalendar(name: spec.name.value, timezone: zone, hours: hours, holidays: holidays)
        }
        return out
    }
}

/// A time zone written in a flow or calendar: a bare IANA name (`Europe/London`, which would
/// otherwise read as a division), or an expression; a quoted name is checked at compile time.
enum ZoneSource {
    /// `source` as a literal zone name, when it is one.
    static func bare(_ source: ExpressionSource) -> CompiledExpression? {
        guard ZoneNames.zone(source.text) != nil else { return nil }
        return CompiledExpression(source: source, expr: Expr(.literal(.string(source.text)), at: 0), type: .string)
    }

    /// Reports a literal string that is no IANA zone (`"Europe/Lndon"`, `"EST"`): at run time it
    /// would only ever fall back to `default_timezone`.
    static func checkLiteral(_ zone: CompiledExpression, reader: NodeReader) {
        if case .literal(.string(let name)) = zone.expr.kind, ZoneNames.zone(name) == nil {
            reader.error("'\(name)' is not an IANA time zone such as Europe/London", at: zone.source.location, code: "unknown-timezone")
        }
    }
}
