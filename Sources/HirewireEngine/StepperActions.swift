import Foundation
import HirewireLanguage

extension Stepper {
    /// Runs a `do` list in order. `set`, `emit` and `log` act at their place; other actions are
    /// rendered here and queued for dispatch (or deferred, or capped). `scope` says whether a
    /// deferred action still goes out once the journey has moved on. Returns the `on_error: goto`
    /// target of an action that failed to render.
    mutating func run(_ actions: [MachineAction], scope: DeferScope) -> Int? {
        var failedGoto: Int?
        for action in actions {
            let here = roots()
            guard holds(action.condition, here) else { continue }
            switch action.connector {
            case "set":
                if case .object(let entries) = action.arguments, case .object(let vars)? = entries.first(where: { $0.0 == "vars" })?.1 {
                    for (name, tree) in vars { journey.vars[name] = evaluate(tree, here) }
                }
                varsChanged()
                record("set", ["vars": .object(journey.vars)])
                continue
            case "log":
                do {
                    let rendered = try render(action.arguments, here)
                    record("log", ["message": rendered["message"]])
                } catch {
                    record("action_failed", ["path": .string(action.path), "reason": .string(error.description)])
                }
                continue
            case "emit":
                let args = (try? render(action.arguments, here)) ?? .null
                let type = args["type"].stringValue ?? "x.unknown"
                let emitted = CanonicalEvent(id: actionKey(action.path), type: type, occurredAt: now,
                                             source: "emit", data: Self.nested(args["data"]))
                result.emitted.append(emitted)
                record("emit", ["type": .string(type)])
                continue
            default:
                break
            }
            let planned: PlannedAction
            do {
                planned = try plan(action, here)
            } catch {
                record("action_failed", ["connector": .string(action.connector), "path": .string(action.path),
                                         "reason": .string(error.description), "dead_letter": true])
                if failedGoto == nil, let target = action.onErrorTarget, scope == .stateEntry { failedGoto = target }
                continue
            }
            queue(planned, action: action, scope: scope)
        }
        return failedGoto
    }

    /// Renders an action's arguments and gives it its idempotency key.
    func plan(_ action: MachineAction, _ here: ExprContext) throws(Diagnostic) -> PlannedAction {
        var arguments = try render(action.arguments, here)
        if let name = action.templateName, let template = setup.templates[name], case .object(var members) = arguments {
            let context = Value.object(here.roots)
            if let subject = template.subject { members["subject"] = .string(try subject.render(context, scope: here.scope)) }
            if let text = template.text { members["text"] = .string(try text.render(context, scope: here.scope)) }
            if let html = template.html { members["html"] = .string(try html.render(context, scope: here.scope, escapeHTML: true)) }
            arguments = .object(members)
        }
        let candidate = action.audience == .candidate ? journey.context["candidate"]?["id"].stringValue : nil
        return PlannedAction(connector: action.connector, arguments: arguments,
                             idempotencyKey: actionKey(action.path), path: action.path,
                             audience: action.audience, template: action.templateName, retryAttempts: action.retryAttempts,
                             retryBackoff: action.retryBackoff, entry: journey.entry, order: 0, candidate: candidate)
    }

    /// Applies policy to a planned action and queues, defers or caps it.
    mutating func queue(_ planned: PlannedAction, action: MachineAction, scope: DeferScope) {
        let governed = action.audience == .candidate && !action.exempt
        if governed, let cap = machine.policy.maxMessages {
            let windowStart = now.addingTimeInterval(-cap.per)
            let recent = facts.recentCandidateMessages.filter { $0 > windowStart }.count + result.candidateMessages.count
                - result.withdrawnMessages.filter { $0.at > windowStart }.count
            if recent >= cap.count {
                record("capped", ["connector": .string(action.connector), "path": .string(action.path), "count": .number(Double(recent))])
                if journey.insteadAt.map({ now.timeIntervalSince($0) >= cap.per }) ?? true {
                    journey.insteadAt = now
                    _ = run(cap.instead, scope: scope)
                }
                return
            }
        }
        if governed, let quiet = quietHours(), quiet.isQuiet(at: now) {
            let until = quiet.nextAllowed(atOrAfter: now)
            record("deferred", ["connector": .string(action.connector), "path": .string(action.path), "until": .string(Timestamp.format(until))])
            result.candidateMessages.append(CandidateMessage(at: now, key: planned.idempotencyKey))
            let id = timerId(journey.entry, "deferred:" + planned.idempotencyKey)
            arm(id: id, due: until, kind: .deferred(action: planned, scope: scope), stateScoped: false, windowEnd: nil)
            if scope != .always {
                journey.held.append(HeldMessage(timer: id, entry: journey.entry, scope: scope, queuedAt: now, key: planned.idempotencyKey,
                                                connector: action.connector, path: action.path))
            }
            return
        }
        // An exempt message is outside the policy altogether: it does not use up the cap either.
        dispatch(planned, counted: governed)
    }

    /// Queues `planned` for the dispatcher. A deferred action released now was counted for
    /// `max_messages` when it was deferred (`counted: false`), not again.
    mutating func dispatch(_ planned: PlannedAction, counted: Bool = true) {
        var action = planned
        action.order = order
        order += 1
        if result.actions.isEmpty { result.actions.reserveCapacity(4) }
        result.actions.append(action)
        if counted, action.audience == .candidate {
            if result.candidateMessages.isEmpty { result.candidateMessages.reserveCapacity(2) }
            result.candidateMessages.append(CandidateMessage(at: now, key: action.idempotencyKey))
        }
        // Fields in ascending key order (the store writes such entries without sorting them).
        record("action", ["args": action.arguments, "connector": .string(action.connector),
                          "idempotency_key": .string(action.idempotencyKey), "path": .string(action.path)])
    }

    /// A deferred action's moment has come: it goes out unless its scope has passed (the state
    /// entry, or the journey, that queued it) or its `if` no longer holds.
    mutating func release(_ action: PlannedAction, scope: DeferScope, timer: TimerRecord) {
        journey.held.removeAll { $0.timer == timer.id }
        // Dropped, it no longer counts toward `max_messages` (it counted from its deferral).
        let withdrawn = CandidateMessage(at: timer.armedAt, key: action.idempotencyKey)
        if scope.isLeft(entry: timer.entry, by: journey) {
            recordDropped(connector: action.connector, path: action.path, reason: journey.isActive ? "left the state" : "the journey ended")
            result.withdrawnMessages.append(withdrawn)
            return
        }
        // Its `if` is asked again, unless it reads `event`: the event that queued the action is
        // not the step's any more (a release is a timer step), and it held for that event.
        let here = roots()
        if let spec = machine.allActions.first(where: { $0.path == action.path }), let condition = spec.condition,
           !readsEvent(condition, letsBefore: machine.lets.count), !holds(condition, here) {
            recordDropped(connector: action.connector, path: action.path, reason: "if no longer holds")
            result.withdrawnMessages.append(withdrawn)
            return
        }
        dispatch(action, counted: false)
    }

    /// Whether `expression` reads `event`, itself or through a `let` name it reads (one of the
    /// first `limit`: a binding sees only those before it, so the walk ends).
    func readsEvent(_ expression: CompiledExpression, letsBefore limit: Int) -> Bool {
        if expression.readsEvent { return true }
        let roots = Set(expression.expr.readPaths.map { $0.split(separator: ".", maxSplits: 1).first.map(String.init) ?? $0 })
        for i in 0..<limit where roots.contains(machine.lets[i].name) {
            if readsEvent(machine.lets[i].expression, letsBefore: i) { return true }
        }
        return false
    }

    /// `{application.id: x}` as `{application: {id: x}}`: an emitted event's data reads dotted
    /// keys as paths, as a source's `data:` does (the event went out with a key no flow reads).
    static func nested(_ data: Value) -> Value {
        guard case .object(let members) = data, members.keys.contains(where: { $0.contains(".") }) else { return data }
        var out = Value.object([:])
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            var patch = value
            for part in key.split(separator: ".").reversed() { patch = .object([String(part): patch]) }
            out.merge(patch)
        }
        return out
    }

    /// Withdraws the held messages whose scope the step left (its state entry, or the journey):
    /// their timers are cancelled and they stop counting toward `max_messages` now, instead of
    /// staying pending, and counted, until a release that would only drop them. Run as the step
    /// finishes, once actions queued on the way out of a state have joined the entry they land in.
    /// `storedOnly`: only those held in earlier steps (their timers are stored).
    mutating func withdrawLeftMessages(storedOnly: Bool = false) {
        let left = journey.held.filter { held in
            !(storedOnly && result.armTimers.contains { $0.id == held.timer }) && held.scope.isLeft(entry: held.entry, by: journey)
        }
        guard !left.isEmpty else { return }
        journey.held.removeAll { held in left.contains { $0.timer == held.timer } }
        for held in left {
            recordDropped(connector: held.connector, path: held.path, reason: journey.isActive ? "left the state" : "the journey ended")
            if let armed = result.armTimers.firstIndex(where: { $0.id == held.timer }) {
                // Deferred in this very step: it was never stored, nor counted before.
                result.armTimers.remove(at: armed)
                result.candidateMessages.removeAll { $0.key == held.key }
            } else {
                result.cancelTimers.append(held.timer)
                result.withdrawnMessages.append(CandidateMessage(at: held.queuedAt, key: held.key))
            }
        }
    }

    /// A held message that will not go out, and why.
    mutating func recordDropped(connector: String, path: String, reason: String) {
        record("deferred_dropped", ["connector": .string(connector), "path": .string(path), "reason": .string(reason)])
    }

    func evaluate(_ tree: ArgumentTree, _ here: ExprContext) -> Value {
        switch tree {
        case .expression(let e): return e.evaluate(here)
        case .literal(let v): return v
        case .duration(let d): return .duration(d)
        case .template(let t): return (try? t.render(.object(here.roots), scope: here.scope)).map(Value.string) ?? .null
        case .list(let items): return .array(items.map { evaluate($0, here) })
        case .object(let entries): return .object(Dictionary(entries.map { ($0.0, evaluate($0.1, here)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Renders templates strictly; a missing value fails the action.
    func render(_ tree: ArgumentTree, _ here: ExprContext) throws(Diagnostic) -> Value {
        switch tree {
        case .template(let t): return .string(try t.render(.object(here.roots), scope: here.scope))
        case .expression(let e): return e.evaluate(here)
        case .literal(let v): return v
        case .duration(let d): return .duration(d)
        case .list(let items):
            var out: [Value] = []
            for item in items { out.append(try render(item, here)) }
            return .array(out)
        case .object(let entries):
            // Room for a template's subject, text and html too. `minimumCapacity:` is specialized
            // here; `reserveCapacity` on an empty dictionary went through the generic library entry.
            var out = [String: Value](minimumCapacity: entries.count + 3)
            for (k, v) in entries { out[k] = try render(v, here) }
            return .object(out)
        }
    }
}
