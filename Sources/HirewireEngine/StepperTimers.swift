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
    /// the rest of the step.
    mutating func resolveZone(_ expression: CompiledExpression?, what: @autoclosure () -> String) -> ZoneClock {
        guard let expression else { return setup.defaultClock }
        let here = roots()
        let value = expression.evaluate(here)
        if let name = value.stringValue {
            if let last = lastZone, last.name == name { return last.clock }
            if let clock = ZoneNames.clock(name) {
                lastZone = (name, clock)
                return clock
            }
        }
        // Once per purpose per step: the quiet-hours zone is asked for each candidate message.
        let purpose = what()
        if !badZonesRecorded.contains(purpose) {
            badZonesRecorded.insert(purpose)
            record("bad_timezone", ["for": .string(purpose), "value": value, "fallback": .string(setup.defaultZone.identifier)])
        }
        return setup.defaultClock
    }

    /// Arms a journey-wide timer of a journey moved to a new version, unless it is already due.
    mutating func armUnlessDue(_ timer: MachineTimer, path: String) {
        let armed = result.armTimers.count, recorded = result.timeline.count
        arm(timer, path: path, stateScoped: false)
        guard result.armTimers.count > armed, let last = result.armTimers.last, last.due <= now else { return }
        result.armTimers.removeLast()
        if let set = result.timeline[recorded...].lastIndex(where: { $0.kind == "timer_set" }) { result.timeline.remove(at: set) }
        skip(path, stateScoped: false, reason: "already due when the journey moved to this version")
    }

    /// A timer that will not be armed: recorded, and (a state's) no longer pending in this entry.
    mutating func skip(_ path: String, stateScoped: Bool, reason: Value) {
        record("timer_skipped", ["timer": .string(path), "reason": reason])
        if stateScoped { journey.doneTimers.append(path) }
    }

    /// Arms one `after` timer of the flow or of the current state.
    mutating func arm(_ timer: MachineTimer, path: String, stateScoped: Bool) {
        let base = stateScoped ? journey.stateEnteredAt : journey.startedAt
        var due: Date
        var windowEnd: Date?
        switch timer.when {
        case .delay(let seconds):
            due = base.addingTimeInterval(seconds)
            if timer.calendar != nil {
                guard let cal = calendar(timer.calendar), let open = cal.nextOpen(atOrAfter: due) else {
                    skip(path, stateScoped: stateScoped, reason: "the calendar never opens")
                    return
                }
                due = open
            }
        case .between(let min, let max):
            let earliest = base.addingTimeInterval(min)
            windowEnd = base.addingTimeInterval(max)
            let cal = calendar(timer.calendar)
            let quiet = quietHours()
            guard let allowed = TimeWindows.earliest(atOrAfter: earliest, calendar: cal, quiet: quiet) else {
                skip(path, stateScoped: stateScoped, reason: "the calendar never opens")
                return
            }
            due = allowed
        case .at(let expression):
            let here = roots()
            guard let at = expression.evaluate(here).asTimestamp else {
                skip(path, stateScoped: stateScoped, reason: .string("\(expression.source.text) is null"))
                return
            }
            due = Swift.max(at, now)
            if timer.calendar != nil, let cal = calendar(timer.calendar), let open = cal.nextOpen(atOrAfter: due) { due = open }
        }
        let id = timerId(stateScoped ? journey.entry : 0, path)
        arm(id: id, due: due, kind: .flow(path: path), stateScoped: stateScoped, windowEnd: windowEnd)
    }

    mutating func arm(id: String, due: Date, kind: TimerKind, stateScoped: Bool, windowEnd: Date?) {
        result.armTimers.append(TimerRecord(id: id, journey: journey.id, due: due, entry: journey.entry, stateScoped: stateScoped,
                                            kind: kind, windowEnd: windowEnd, armedAt: now))
        var fields: TimelineFields = ["due": .string(Timestamp.format(due))]
        switch kind {
        case .flow(let path): fields["timer"] = .string(path)
        case .timeout: fields["timer"] = "timeout"
        case .deferred(let action, _): fields["timer"] = .string("deferred " + action.path)
        }
        record("timer_set", fields)
    }
}
