import Foundation
import HirewireLanguage

extension Stepper {
    /// The calendar named `name`, in the zone its expression gives for this journey.
    mutating func calendar(_ name: String?) -> BusinessCalendar? {
        guard let name, let compiled = setup.calendars[name] else { return nil }
        return BusinessCalendar(clock: resolveZone(compiled.timezone, what: "calendar " + name), hours: compiled.hours, holidays: compiled.holidays)
    }

    /// The flow's quiet hours in the zone `policy.quiet_hours.timezone` gives.
    mutating func quietHours() -> QuietHours? {
        guard let q = machine.policy.quietHours else { return nil }
        return QuietHours(fromMinute: q.fromMinute, toMinute: q.toMinute, clock: resolveZone(q.timezone, what: "quiet hours"))
    }

    /// Evaluates a zone expression; a null or non-IANA result falls back to the default zone and
    /// records `bad_timezone` (once per purpose in a step). The last zone resolved is remembered for
    /// the rest of the step, and a zone an expression gave until the roots change (a fallback is
    /// not: each purpose records its own).
    mutating func resolveZone(_ expression: CompiledExpression?, what: @autoclosure () -> String) -> ZoneClock {
        guard let expression else { return setup.defaultClock }
        for memo in zoneMemo where memo.source == expression.source.text { return memo.clock }
        let here = roots()
        let value = expression.evaluate(here)
        if let name = value.stringValue {
            if let last = lastZone, last.name == name {
                zoneMemo.append((expression.source.text, last.clock))
                return last.clock
            }
            if let clock = ZoneNames.clock(name) {
                lastZone = (name, clock)
                zoneMemo.append((expression.source.text, clock))
                return clock
            }
        }
        // Once per purpose per step: the quiet-hours zone is asked for each candidate message.
        let purpose = what()
        if !badZonesRecorded.contains(purpose) {
            badZonesRecorded.insert(purpose)
            record("bad_timezone", ["for": .string(purpose), "value": value, "fallback": .string(setup.defaultZoneName)])
        }
        return setup.defaultClock
    }

    /// When a timer falls due for this journey, or why it is not armed.
    enum TimerDue {
        case at(Date, windowEnd: Date?)
        case skipped(reason: Value)
    }

    /// Arms a journey-wide timer of a journey moved to a new version. One already due is owed
    /// when the old version's timer at its place was still pending (what the old version had yet
    /// to do still happens, once): it is armed for the next moment its calendar and quiet hours
    /// allow, unless that is later than its `late:` limit allows. It is skipped when not owed (the
    /// old one fired its own way, or the old version had none there and nothing was promised).
    mutating func armMoved(_ timer: MachineTimer, owed: Bool) {
        let id = timerId(0, timer.path)
        switch due(of: timer, stateScoped: false) {
        case .skipped(let reason):
            skip(timer.path, stateScoped: false, reason: reason)
        case .at(let due, let windowEnd) where due > now:
            arm(id: id, due: due, kind: .flow(path: timer.path), stateScoped: false, windowEnd: windowEnd)
        case .at(let due, let windowEnd):
            guard owed else {
                skip(timer.path, stateScoped: false, reason: "already due when the journey moved to this version")
                return
            }
            guard let release = nextAllowed(timer, atOrAfter: now) else {
                skip(timer.path, stateScoped: false, reason: "the calendar never opens")
                return
            }
            if let late = timer.late, release.timeIntervalSince(due) > late {
                skip(timer.path, stateScoped: false, reason: "owed from the old version, but later than its late: limit")
                return
            }
            arm(id: id, due: release, kind: .flow(path: timer.path), stateScoped: false, windowEnd: windowEnd)
        }
    }

    /// A timer that will not be armed: recorded, and (a state's) no longer pending in this entry.
    mutating func skip(_ path: String, stateScoped: Bool, reason: Value) {
        record("timer_skipped", ["timer": .string(path), "reason": reason])
        if stateScoped { journey.doneTimers.append(path) } else { journey.spentTimers.append(path) }
    }

    /// Arms one `after` timer of the flow or of the current state.
    mutating func arm(_ timer: MachineTimer, path: String, stateScoped: Bool) {
        switch due(of: timer, stateScoped: stateScoped) {
        case .skipped(let reason):
            skip(path, stateScoped: stateScoped, reason: reason)
        case .at(let due, let windowEnd):
            arm(id: timerId(stateScoped ? journey.entry : 0, path), due: due, kind: .flow(path: path), stateScoped: stateScoped, windowEnd: windowEnd)
        }
    }

    /// When one `after` timer of the flow (counted from the journey's start) or of the current
    /// state (from its entry) falls due, in its calendar and quiet hours.
    mutating func due(of timer: MachineTimer, stateScoped: Bool) -> TimerDue {
        let base = stateScoped ? journey.stateEnteredAt : journey.startedAt
        switch timer.when {
        case .delay(let seconds):
            guard let due = nextAllowed(timer, atOrAfter: base.addingTimeInterval(seconds)) else {
                return .skipped(reason: "the calendar never opens")
            }
            return .at(due, windowEnd: nil)
        case .between(let min, let max):
            let earliest = base.addingTimeInterval(min)
            // A calendar that is never open outside the quiet hours (London's business hours
            // fall in Sydney's night all winter): its own next opening, rather than a timer
            // skipped as if the calendar never opened. A candidate-facing action it runs is
            // still held by the quiet hours until morning.
            let calendarOnly = timer.calendar.map { calendar($0)?.nextOpen(atOrAfter: earliest) } ?? earliest
            guard let due = nextAllowed(timer, atOrAfter: earliest) ?? calendarOnly else {
                return .skipped(reason: "the calendar never opens")
            }
            return .at(due, windowEnd: base.addingTimeInterval(max))
        case .at(let expression):
            let here = roots()
            let value = expression.evaluate(here)
            guard let at = value.asTimestamp else {
                // What it holds is not said: it may be a candidate's data, and reasons outlive erasure.
                return .skipped(reason: .string(value.isNull ? "\(expression.source.text) is null"
                    : "\(expression.source.text) is not a time (a time is RFC 3339 with its zone, such as 2026-03-09T17:00:00Z)"))
            }
            // Past already by more than its `late:` limit (an interview moved to 3 hours from
            // now, its reminder "tomorrow" due 21 hours ago): too late to be of use, as after an
            // outage. Without a limit it fires at once.
            if let late = timer.late, now.timeIntervalSince(at) > late {
                return .skipped(reason: "its moment passed more than its late: limit ago")
            }
            // An `at` whose calendar never opens keeps its own moment.
            let due = Swift.max(at, now)
            return .at(nextAllowed(timer, atOrAfter: due) ?? due, windowEnd: nil)
        }
    }

    /// The first moment at or after `date` that `timer`'s calendar allows (and, for a `between`
    /// window, the quiet hours); nil when the calendar never opens.
    mutating func nextAllowed(_ timer: MachineTimer, atOrAfter date: Date) -> Date? {
        if case .between = timer.when { return TimeWindows.earliest(atOrAfter: date, calendar: calendar(timer.calendar), quiet: quietHours()) }
        guard timer.calendar != nil else { return date }
        return calendar(timer.calendar)?.nextOpen(atOrAfter: date)
    }

    mutating func arm(id: String, due: Date, kind: TimerKind, stateScoped: Bool, windowEnd: Date?) {
        let deferred = kind.isDeferred
        if result.armTimers.isEmpty { result.armTimers.reserveCapacity(4) }
        result.armTimers.append(TimerRecord(id: id, journey: journey.id, due: due, entry: journey.entry, stateScoped: stateScoped,
                                            kind: kind, windowEnd: windowEnd, armedAt: now,
                                            flow: deferred ? machine.id : nil, key: deferred ? journey.key : nil))
        var fields: TimelineFields = ["due": .string(Timestamp.format(due))]
        switch kind {
        case .flow(let path): fields["timer"] = .string(path)
        case .timeout: fields["timer"] = "timeout"
        case .deferred(let action, _): fields["timer"] = .string("deferred " + action.path)
        }
        record("timer_set", fields)
    }
}
