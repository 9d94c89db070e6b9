import Foundation
import HirewireLanguage

/// The pure step function: `(machine, journey, input, now) → (journey', effects)`.
/// No clock, no disk, no network: the same inputs always give the same outputs.
public enum Step {
    /// Starts a journey for a start event whose key has no active journey. Returns nil journey
    /// (with `ignored` or `review` in the timeline) when `start.if` fails or `require` is unmet.
    public static func start(_ machine: Machine, setup: EngineSetup, event: CanonicalEvent, key: String,
                             journeyId: String, now: Date, facts: StepFacts = StepFacts()) -> StepResult {
        var stepper = Stepper(machine: machine, setup: setup, now: now, facts: facts,
                              journey: Journey(id: journeyId, flow: machine.id, version: machine.version, key: key, status: .active,
                                               state: machine.states[machine.initial].name, stateEnteredAt: now, entry: 0,
                                               startedAt: now, context: [:], mergedAt: [:], vars: [:], seq: 1, insteadAt: nil))
        stepper.start(event)
        return stepper.finish()
    }

    /// Whether `event` may start a journey of `machine` (`start.if` holds, with `env` and the
    /// `let` names computed from the event; `require` is checked by
    /// ``start(_:setup:event:key:journeyId:now:facts:)``).
    public static func startConditionHolds(_ machine: Machine, event: CanonicalEvent, env: [String: String] = [:], now: Date) -> Bool {
        guard let condition = machine.start.condition else { return true }
        return condition.holds(EventRoot.startContext(event, machine: machine, env: env, now: now))
    }

    /// The `require` fields an event's data lacks (a start event lacking any goes to review).
    public static func missingRequirements(_ machine: Machine, data: [String: Value]) -> [String] {
        // The first part is looked up in `data` itself: no object is built around it. Nearly
        // every start has them all, and then no array is made.
        var missing: [String] = []
        for path in machine.require {
            if let root = path.components.first, let value = data[root], !value.value(at: path.components.dropFirst()).isNull { continue }
            missing.append(path.dotted)
        }
        return missing
    }

    /// Whether `event` would start a journey of `machine`: `start.if` holds and `require` is met.
    /// Only then does `reentry: restart` end the running journey for a new one.
    public static func wouldStart(_ machine: Machine, event: CanonicalEvent, env: [String: String] = [:], now: Date) -> Bool {
        startConditionHolds(machine, event: event, env: env, now: now) && missingRequirements(machine, data: event.data.objectValue ?? [:]).isEmpty
    }

    /// Applies an event, a fired timer or an action failure to an existing journey.
    public static func apply(_ machine: Machine, setup: EngineSetup, journey: Journey, input: StepInput,
                             now: Date, facts: StepFacts = StepFacts()) -> StepResult {
        // The stepper's copy is the only one made (a journey copy retains a dozen fields).
        var stepper = Stepper(machine: machine, setup: setup, now: now, facts: facts, journey: journey)
        stepper.journey.seq += 1
        switch input {
        case .event(let event): stepper.apply(event)
        case .timer(let timer): stepper.fire(timer)
        case .actionFailed(let key, let path, let entry, let reason): stepper.actionFailed(key: key, path: path, entry: entry, reason: reason)
        }
        return stepper.finish()
    }

    /// Ends a journey from outside (`hirewire cancel`, `reentry: restart`, erasure).
    public static func end(_ machine: Machine, setup: EngineSetup, journey: Journey, outcome: String, now: Date) -> StepResult {
        var stepper = Stepper(machine: machine, setup: setup, now: now, facts: StepFacts(), journey: journey)
        stepper.journey.seq += 1
        stepper.end(outcome)
        return stepper.finish()
    }

    /// Ends a journey whose machine cannot be loaded (its pinned version no longer compiles):
    /// nothing of the flow runs; every timer the store holds for it (`pending`) is cancelled, a
    /// message deferred by quiet hours among them stops counting for `max_messages`, and the end
    /// says why the flow's own end could not run.
    public static func endUnloaded(_ journey: Journey, outcome: String, pending: [TimerRecord], reason: String, now: Date) -> StepResult {
        var next = journey
        next.seq += 1
        next.status = .ended(outcome: outcome)
        // Its held messages are among `pending` and withdrawn below: none is left to withdraw.
        next.held = []
        var result = StepResult(journey: next)
        result.cancelTimers = pending.map(\.id)
        for timer in pending {
            if case .deferred(let action, _) = timer.kind, action.audience == .candidate {
                result.withdrawnMessages.append(CandidateMessage(at: timer.armedAt, key: action.idempotencyKey))
            }
        }
        result.timeline = [TimelineEntry(at: now, flow: journey.flow, journey: journey.id, key: journey.key, kind: "end",
                                         fields: ["outcome": .string(outcome), "reason": .string(reason), "state": .string(journey.state)])]
        return result
    }

    /// Moves a journey of an older version onto `machine` (a `migrate:` entry). No `do` runs.
    /// `pending` are the timers the store holds for the journey: its flow, state and timeout
    /// timers are cancelled (deferred messages keep their own rules: those of the state entry
    /// left are withdrawn as the step finishes). The new state's timers are armed
    /// from the journey's original `entered_at`, and the new version's timeout and `after` timers
    /// from its start. A new `after` timer already due is skipped (repeating what the old version
    /// did in its own way would send a reminder twice) unless the old version's timer at its
    /// place was still pending: then it is owed and goes out at the next moment its calendar and
    /// quiet hours allow. A new state's timer already due is skipped when the old state's timer
    /// at its place had fired; otherwise it fires at once, as armed from the original entry. A final target ends the journey with its outcome. The old version's
    /// machine is not needed, so a journey whose version no longer compiles moves too.
    public static func migrate(_ journey: Journey, pending: [TimerRecord], to machine: Machine, target: Int, setup: EngineSetup,
                               now: Date) -> StepResult {
        var next = journey
        next.seq += 1
        var stepper = Stepper(machine: machine, setup: setup, now: now, facts: StepFacts(), journey: next)
        var owed: Set<String> = []
        for timer in pending {
            switch timer.kind {
            case .deferred: continue
            case .timeout: stepper.result.cancelTimers.append(timer.id)
            case .flow(let path):
                stepper.result.cancelTimers.append(timer.id)
                if timer.stateScoped {
                    stepper.record("timer_cancelled", ["timer": .string(path)])
                } else {
                    owed.insert(path)
                }
            }
        }
        let state = machine.states[target]
        stepper.journey.version = machine.version
        stepper.journey.state = state.name
        stepper.journey.entry += 1
        stepper.journey.doneTimers = []
        stepper.record("migrated", ["from_version": .string(journey.version), "to_version": .string(machine.version),
                                    "from": .string(journey.state), "to": .string(state.name)])
        if let outcome = state.outcome {
            stepper.end(outcome)
            return stepper.finish()
        }
        stepper.arm(id: stepper.timerId(0, "timeout"), due: journey.startedAt.addingTimeInterval(machine.timeout), kind: .timeout,
                    stateScoped: false, windowEnd: nil)
        for timer in machine.after { stepper.armMoved(timer, owed: owed.contains(timer.path)) }
        // The old state's timers that fired (or expired, or were skipped), by their place
        // (`after[i]`): the new state's timer there, already due, would send that reminder again.
        let done = Set(journey.doneTimers.compactMap { $0.split(separator: ".").last })
        for timer in state.timers {
            if let place = timer.path.split(separator: ".").last, done.contains(place),
               case .at(let due, _) = stepper.due(of: timer, stateScoped: true), due <= now {
                stepper.skip(timer.path, stateScoped: true, reason: "already due when the journey moved to this version, and the old state's timer at its place had fired")
                continue
            }
            stepper.arm(timer, path: timer.path, stateScoped: true)
        }
        return stepper.finish()
    }

    /// A deferred action whose journey was never stored (an `on_invalid` action of a start that
    /// went to review) or is gone: one that always goes out (`DeferScope.always`) goes out now;
    /// nil for any other timer (its scope died with the journey).
    public static func releaseWithoutJourney(_ timer: TimerRecord, now: Date) -> StepResult? {
        guard case .deferred(var action, .always) = timer.kind, let flow = timer.flow else { return nil }
        action.order = 0
        var result = StepResult()
        result.actions = [action]
        result.timeline = [TimelineEntry(at: now, flow: flow, journey: timer.journey, key: timer.key ?? "", kind: "action",
                                         fields: ["args": action.arguments, "connector": .string(action.connector),
                                                  "idempotency_key": .string(action.idempotencyKey), "path": .string(action.path)])]
        return result
    }

    /// The journey key of `event` for `machine`: `start.key` evaluated against the event alone;
    /// nil when it is null (the event reaches no journey of this flow).
    public static func key(_ machine: Machine, event: CanonicalEvent, now: Date) -> String? {
        let value: Value
        if case .path(let root, let steps) = machine.start.key.expr.kind, root != "event" {
            // A path over the event's entities (`application.id`, nearly every flow's key) is
            // read in place: the same value the evaluator finds (a key context has no `let` names
            // and no `env`), without the context it builds. Every event asks every flow for it.
            var current = event.data[root]
            for step in steps {
                switch step {
                case .key(let k): current = current[k]
                case .index(let i): current = current[i]
                }
            }
            value = current
        } else {
            value = machine.start.key.evaluate(EventRoot.context(event, now: now))
        }
        switch value {
        case .null: return nil
        case .string(let s): return s.isEmpty ? nil : s
        default: return value.displayString
        }
    }
}
