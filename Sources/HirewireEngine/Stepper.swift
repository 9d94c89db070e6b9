import Foundation
import HirewireLanguage

/// One step in progress: the journey being changed and the effects collected so far.
struct Stepper {
    let machine: Machine
    let setup: EngineSetup
    let now: Date
    let facts: StepFacts
    var journey: Journey
    var result = StepResult()
    /// The event being applied, visible to guards and templates as `event`.
    var event: CanonicalEvent? {
        didSet {
            scope?.event = event
            rootsChanged()
        }
    }
    /// The step's own roots (journey, state, vars, env, event, lets), made at first use.
    var scope: StepScope?
    /// Whether the `let` values the scope holds are out of date (forgotten at the next use).
    var letsStale = true
    /// The zone resolved last in this step (a journey's zone expression gives one name).
    var lastZone: (name: String, clock: ZoneClock)?
    /// Zones resolved since the roots last changed, by the expression's text: quiet hours and a
    /// calendar usually ask the same `candidate.timezone`, once per candidate message and timer.
    var zoneMemo: [(source: String, clock: ZoneClock)] = []
    /// Purposes (`quiet hours`, `calendar NAME`) whose zone fell back in this step, recorded once.
    var badZonesRecorded: Set<String> = []
    /// Immediate transitions taken in this step (guards against `choose` loops).
    var hops = 0
    /// Position of the next dispatched action in this step's dispatch chain.
    var order = 0
    /// Timers this step armed and then cancelled: not armed at all (see ``cancelTimer(_:)``).
    var takenBack: Set<String> = []

    init(machine: Machine, setup: EngineSetup, now: Date, facts: StepFacts, journey: Journey) {
        self.machine = machine
        self.setup = setup
        self.now = now
        self.facts = facts
        self.journey = journey
    }

    /// Set when the step created no journey (start.if false, review).
    var discard = false

    mutating func finish() -> StepResult {
        if !takenBack.isEmpty { result.armTimers.removeAll { takenBack.contains($0.id) } }
        if !journey.held.isEmpty { withdrawLeftMessages() }
        result.journey = discard ? nil : journey
        // Moved out, not copied: a copy retained each of the result's arrays and the journey's
        // fields (≈ 17 reference-count operations a step), and destroying the stepper released them.
        var out = StepResult()
        swap(&out, &result)
        return out
    }

    // MARK: Ids

    /// `journey/entry/path`: a timer's id (entry 0 for journey-wide timers).
    func timerId(_ entry: Int, _ path: String) -> String {
        Self.join(journey.id, UInt8(ascii: "/"), entry, path)
    }

    /// `journey:seq:path`: an action's idempotency key (and an emitted event's id). A path the
    /// step already used (a `choose` that led back to a state it ran) gets `#2`, `#3`…: the
    /// outbox keeps one action per key, and the second was lost.
    func actionKey(_ path: String) -> String {
        let key = Self.join(journey.id, UInt8(ascii: ":"), journey.seq, path)
        // Only a step that entered more than one state can run a path twice.
        guard hops > 1, keyTaken(key) else { return key }
        var n = 2
        while keyTaken(key + "#" + String(n)) { n += 1 }
        return key + "#" + String(n)
    }

    /// Whether this step already gave `key` to an action, a deferred action or an emitted event.
    func keyTaken(_ key: String) -> Bool {
        result.actions.contains { $0.idempotencyKey == key } || result.emitted.contains { $0.id == key }
            || result.armTimers.contains { if case .deferred(let action, _) = $0.kind { action.idempotencyKey == key } else { false } }
    }

    /// `head` + separator + decimal `number` + separator + `tail`, written in one allocation
    /// (string interpolation cost ten times as much, and a step makes several ids).
    static func join(_ head: String, _ separator: UInt8, _ number: Int, _ tail: String) -> String {
        var head = head, digits = String(number), tail = tail
        return head.withUTF8 { h in
            digits.withUTF8 { d in
                tail.withUTF8 { t in
                    String(unsafeUninitializedCapacity: h.count + d.count + t.count + 2) { out in
                        var i = 0
                        func put(_ bytes: UnsafeBufferPointer<UInt8>) { for b in bytes { out[i] = b; i += 1 } }
                        put(h); out[i] = separator; i += 1
                        put(d); out[i] = separator; i += 1
                        put(t)
                        return i
                    }
                }
            }
        }
    }

    // MARK: Timeline

    mutating func record(_ kind: String, _ fields: TimelineFields = [:], at: Date? = nil) {
        assert(FlowTestVocabulary.timelineKinds.contains(kind), "timeline kind '\(kind)' is missing from FlowTestVocabulary.timelineKinds")
        // A start records about ten entries: one allocation instead of four regrowths.
        if result.timeline.isEmpty { result.timeline.reserveCapacity(12) }
        result.timeline.append(TimelineEntry(at: at ?? now, flow: machine.id, journey: journey.id, key: journey.key, kind: kind, fields: fields))
    }

    // MARK: Context

    /// What expressions and templates see now: the journey's context, and the step's scope on
    /// top of it. Nothing is copied: a merge, a state entry or a `set` updates its own root in
    /// place and marks the `let` names stale.
    mutating func roots() -> ExprContext {
        let scope: StepScope
        if let existing = self.scope {
            scope = existing
            if letsStale { scope.lets.reset() }
        } else {
            scope = StepScope(journey: journey, event: event, env: facts.env, lets: machine.lets, now: now)
            self.scope = scope
        }
        letsStale = false
        return ExprContext(roots: journey.context, now: now, scope: scope)
    }

    /// The state entered: its root changes.
    mutating func stateChanged() {
        scope?.stateName = journey.state
        scope?.stateEnteredAt = journey.stateEnteredAt
        rootsChanged()
    }

    /// Something expressions read changed: `let` values and zones resolved so far are forgotten.
    mutating func rootsChanged() {
        letsStale = true
        if !zoneMemo.isEmpty { zoneMemo.removeAll(keepingCapacity: true) }
    }

    /// `set` changed the variables.
    mutating func varsChanged() {
        scope?.vars = journey.vars
        rootsChanged()
    }

    /// A merge (or a start) changed the context: the scope's entity table follows it.
    mutating func contextChanged() {
        scope?.setContext(journey.context)
        rootsChanged()
    }

    func holds(_ condition: CompiledExpression?, _ here: ExprContext) -> Bool {
        condition?.holds(here) ?? true
    }

    /// Merges an event's data into the context, entity by entity; an entity merged from a newer
    /// event is not overwritten by an older one.
    mutating func merge(_ event: CanonicalEvent) {
        guard case .object(let data) = event.data else { return }
        if journey.context.isEmpty, journey.mergedAt.isEmpty {
            // A new journey: the event's entities are the context.
            journey.context = data
            journey.mergedAt = data.mapValues { _ in event.occurredAt }
            contextChanged()
            return
        }
        var changed = false
        // One hash of the entity's name per dictionary: its index serves the read and the update.
        for (entity, value) in data {
            if let at = journey.mergedAt.index(forKey: entity) {
                if journey.mergedAt.values[at] > event.occurredAt { continue }
                journey.mergedAt.values[at] = event.occurredAt
            } else {
                journey.mergedAt[entity] = event.occurredAt
            }
            if let at = journey.context.index(forKey: entity) {
                // Nothing new (most events repeat what the journey knows): the context, and the
                // JSON kept of it, stay as they are.
                if !journey.context.values[at].holds(value) {
                    journey.context.values[at].merge(value)
                    changed = true
                }
            } else {
                journey.context[entity] = value
                changed = true
            }
        }
        if changed { contextChanged() }
    }

    // MARK: Start

    mutating func start(_ event: CanonicalEvent) {
        self.event = event
        let data = event.data.objectValue ?? [:]
        if let condition = machine.start.condition, !condition.holds(EventRoot.startContext(event, machine: machine, env: facts.env, now: now)) {
            record("ignored", ["reason": "not_started", "event": .string(event.type), "detail": "start.if is false"])
            discard = true
            return
        }
        let missing = Step.missingRequirements(machine, data: data)
        if !missing.isEmpty {
            // The application it is about: its data arriving later routes the event again.
            var fields: TimelineFields = ["reason": .string("missing " + missing.joined(separator: ", ")), "event": .string(event.type),
                                          "event_id": .string(event.id)]
            if let application = data["application"]?["id"].stringValue { fields["application"] = .string(application) }
            record("review", fields)
            journey.context = data
            contextChanged()
            _ = run(machine.policy.onInvalid, scope: .always)
            discard = true
            return
        }
        journey.context = [:]
        merge(event)
        record("start", ["event": .string(event.type), "event_id": .string(event.id), "version": .string(machine.version)])
        arm(id: timerId(0, "timeout"), due: journey.startedAt.addingTimeInterval(machine.timeout), kind: .timeout,
            stateScoped: false, windowEnd: nil)
        for timer in machine.after { arm(timer, path: timer.path, stateScoped: false) }
        enter(machine.initial, from: nil, cause: event.type)
    }

    // MARK: Events

    mutating func apply(_ event: CanonicalEvent) {
        self.event = event
        guard journey.isActive else {
            record("ignored", ["reason": "journey_ended", "event": .string(event.type)])
            return
        }
        // Guards see the context before the event; it is built only when a guard needs it.
        var before: ExprContext?
        func holdsBefore(_ condition: CompiledExpression?, _ stepper: inout Stepper) -> Bool {
            guard let condition else { return true }
            let context = before ?? stepper.roots()
            before = context
            return condition.holds(context)
        }
        for exit in machine.exits where exit.on.contains(event.type) {
            guard holdsBefore(exit.condition, &self) else { continue }
            before = nil
            merge(event)
            record("exit", ["event": .string(event.type), "outcome": .string(exit.outcome)])
            _ = run(exit.actions, scope: .always)
            end(exit.outcome)
            return
        }
        guard let index = machine.stateIndex[journey.state] else { return }
        let state = machine.states[index]
        guard let transitions = state.handlers[event.type] else {
            merge(event)
            record("ignored", ["reason": "unhandled", "event": .string(event.type), "state": .string(state.name)])
            return
        }
        var chosen: MachineTransition?
        for transition in transitions where holdsBefore(transition.condition, &self) {
            chosen = transition
            break
        }
        guard let chosen else {
            record("ignored", ["reason": "unhandled", "event": .string(event.type), "state": .string(state.name),
                               "detail": "no guard held"])
            return
        }
        before = nil  // the roots are updated in place from here on
        merge(event)
        let mark = queuedMark()
        let failedGoto = run(chosen.actions, scope: .stateEntry)
        if let target = failedGoto ?? chosen.target {
            transition(to: target, cause: event.type)
            adoptLanding(mark)
        } else {
            record("transition", ["from": .string(state.name), "to": .string(state.name), "event": .string(event.type), "internal": true])
        }
    }

    // MARK: Timers

    mutating func fire(_ timer: TimerRecord) {
        if case .deferred(let action, let scope) = timer.kind {
            release(action, scope: scope, timer: timer)
            return
        }
        guard journey.isActive else { return }
        if timer.stateScoped, timer.entry != journey.entry { return }
        if case .timeout = timer.kind {
            record("timer_fired", ["due": .string(Timestamp.format(timer.due)), "timer": "timeout"])
            end("timed_out")
            return
        }
        guard case .flow(let path) = timer.kind, let spec = timerSpec(path) else { return }
        // Fired, expired or skipped below: no longer pending in this state entry.
        if timer.stateScoped { journey.doneTimers.append(path) } else { journey.spentTimers.append(path) }
        // To the millisecond, as times are stored: a double's tail (5.570000171661377) is noise.
        let lateness = (now.timeIntervalSince(timer.due) * 1000).rounded() / 1000
        if let late = spec.late, lateness > late {
            record("timer_expired", ["timer": .string(path), "due": .string(Timestamp.format(timer.due)), "lateness_s": .number(lateness)])
            return
        }
        if let windowEnd = timer.windowEnd, timer.due > windowEnd {
            record("window_missed", ["timer": .string(path), "window_end": .string(Timestamp.format(windowEnd))])
        }
        record("timer_fired", ["due": .string(Timestamp.format(timer.due)), "lateness_s": .number(max(0, lateness)), "timer": .string(path)])
        guard holds(spec.condition, roots()) else {
            record("timer_skipped", ["timer": .string(path), "reason": "if is false"])
            return
        }
        let mark = queuedMark()
        let failedGoto = run(spec.actions, scope: timer.stateScoped ? .stateEntry : .journey)
        if let target = failedGoto ?? spec.target {
            transition(to: target, cause: "timer \(path)")
            adoptLanding(mark)
        }
    }

    /// Where this step's queued actions and armed timers stand, and the state entry queuing now.
    struct QueuedMark {
        let actions: Int
        let timers: Int
        let entry: Int
    }

    func queuedMark() -> QueuedMark { QueuedMark(actions: result.actions.count, timers: result.armTimers.count, entry: journey.entry) }

    /// Actions a step queued on its way out of a state entry (a transition's or a timer's `do`
    /// with a `goto`, a `choose` state's `do`) belong to the entry the step lands in: a deferred
    /// one still goes out while the journey stays there, and `on_error: goto` still applies. Left
    /// with the entry they were queued in, which the same step leaves, they were always dropped.
    mutating func adoptLanding(_ mark: QueuedMark) {
        // Landed in a final state: what was queued on the way there goes out as that state's
        // own actions do, always (a message quiet hours held was dropped with the journey's end).
        if !journey.isActive {
            for i in mark.timers..<result.armTimers.count where result.armTimers[i].entry == mark.entry {
                guard case .deferred(let action, let scope) = result.armTimers[i].kind, scope != .always else { continue }
                result.armTimers[i].kind = .deferred(action: action, scope: .always)
                let id = result.armTimers[i].id
                journey.held.removeAll { $0.timer == id }
            }
            return
        }
        guard journey.entry != mark.entry else { return }
        for i in mark.actions..<result.actions.count where result.actions[i].entry == mark.entry {
            result.actions[i].entry = journey.entry
        }
        for i in mark.timers..<result.armTimers.count where result.armTimers[i].entry == mark.entry {
            guard case .deferred(var action, let scope) = result.armTimers[i].kind else { continue }
            action.entry = journey.entry
            result.armTimers[i].kind = .deferred(action: action, scope: scope)
            result.armTimers[i].entry = journey.entry
            if let held = journey.held.firstIndex(where: { $0.timer == result.armTimers[i].id }) { journey.held[held].entry = journey.entry }
        }
    }

    func timerSpec(_ path: String) -> MachineTimer? {
        if path.hasPrefix("after[") { return machine.after.first { $0.path == path } }
        return machine.states.lazy.flatMap(\.timers).first { $0.path == path }
    }

    // MARK: Failures

    mutating func actionFailed(key: String, path: String, entry: Int, reason: String) {
        record("action_failed", ["idempotency_key": .string(key), "path": .string(path), "reason": .string(reason)])
        guard journey.isActive, entry == journey.entry, let action = machine.allActions.first(where: { $0.path == path }),
              let target = action.onErrorTarget
        else { return }
        transition(to: target, cause: "action_failed")
    }

    // MARK: States

    /// Leaves the current state (cancelling its timers) and enters `target`.
    mutating func transition(to target: Int, cause: String) {
        cancelStateTimers()
        enter(target, from: journey.state, cause: cause)
    }

    /// Cancels timer `id`. One this very step armed is taken back as well: the store (and the
    /// simulation) apply a step's cancels before its arms, so a journey that started and ended in
    /// one step kept its timeout and `after` timers pending until they fell due for nothing.
    /// They are taken out as the step finishes: removed now, they would shift the positions that
    /// `QueuedMark` holds.
    mutating func cancelTimer(_ id: String) {
        if result.armTimers.contains(where: { $0.id == id }) { takenBack.insert(id) }
        // A state has a timer or two: one allocation, not a regrowth per timer.
        if result.cancelTimers.isEmpty { result.cancelTimers.reserveCapacity(4) }
        result.cancelTimers.append(id)
    }

    mutating func cancelStateTimers() {
        guard let index = machine.stateIndex[journey.state] else { return }
        for timer in machine.states[index].timers {
            // A timer that fired, expired or was skipped is not pending: nothing to cancel.
            if journey.doneTimers.contains(timer.path) { continue }
            let id = timerId(journey.entry, timer.path)
            cancelTimer(id)
            record("timer_cancelled", ["timer": .string(timer.path)])
        }
    }

    mutating func enter(_ index: Int, from: String?, cause: String) {
        hops += 1
        guard hops <= 100 else {
            // A loop of `choose` or `goto`: what it queued on the way round goes nowhere (it had
            // queued the same email a hundred times).
            let dropped = result.actions.count + result.armTimers.filter(\.kind.isDeferred).count
            result.actions.removeAll()
            result.armTimers.removeAll { $0.kind.isDeferred }
            result.candidateMessages.removeAll()
            journey.held.removeAll()
            record("error", ["reason": .string("more than 100 immediate transitions in one step; stopping, and the \(dropped) actions the step queued are dropped")])
            end("error")
            return
        }
        let state = machine.states[index]
        journey.state = state.name
        journey.entry += 1
        journey.stateEnteredAt = now
        journey.doneTimers = []
        stateChanged()
        if let from {
            record("transition", ["event": .string(cause), "from": .string(from), "to": .string(state.name)])
        } else {
            record("transition", ["event": .string(cause), "to": .string(state.name)])
        }
        // Messages held for the entry just left stop counting before the new state's own are
        // queued: one that will never go out must not cap one that would. (Those held in this
        // very step wait for the step's end, when actions queued on the way out have joined
        // the entry they land in.)
        if !journey.held.isEmpty { withdrawLeftMessages(storedOnly: true) }
        let mark = queuedMark()
        let failedGoto = run(state.actions, scope: state.isFinal ? .always : .stateEntry)
        if let outcome = state.outcome {
            end(outcome)
            return
        }
        if let target = failedGoto {
            transition(to: target, cause: "action_failed")
            return
        }
        if !state.choices.isEmpty {
            let here = roots()
            if let choice = state.choices.first(where: { holds($0.condition, here) }) {
                enter(choice.target, from: state.name, cause: "choose")
                adoptLanding(mark)
            }
            return
        }
        for timer in state.timers { arm(timer, path: timer.path, stateScoped: true) }
    }

    mutating func end(_ outcome: String) {
        guard journey.isActive else { return }
        cancelStateTimers()
        // The journey-wide timers still pending are cancelled, and recorded as state timers are
        // (the timeout is not pending when it is what ends the journey).
        cancelTimer(timerId(0, "timeout"))
        if outcome != "timed_out" { record("timer_cancelled", ["timer": "timeout"]) }
        for timer in machine.after {
            cancelTimer(timerId(0, timer.path))
            if !journey.spentTimers.contains(timer.path) { record("timer_cancelled", ["timer": .string(timer.path)]) }
        }
        journey.status = .ended(outcome: outcome)
        record("end", ["outcome": .string(outcome), "state": .string(journey.state)])
    }
}
