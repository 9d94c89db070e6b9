import Foundation
import HirewireLanguage

/// JSON forms of the engine's records, for stores. Times are RFC 3339 strings; decoding is
/// strict and returns nil for a record it cannot read.
extension Journey {
    public var encoded: Value {
        var o: [String: Value] = [
            "id": .string(id), "flow": .string(flow), "version": .string(version), "key": .string(key),
            "state": .string(state), "entered_at": .timestamp(stateEnteredAt), "entry": .number(Double(entry)),
            "started_at": .timestamp(startedAt), "context": .object(context), "vars": .object(vars),
            "merged_at": .object(mergedAt.mapValues(Value.timestamp)), "seq": .number(Double(seq)),
        ]
        if let outcome { o["outcome"] = .string(outcome) }
        if let insteadAt { o["instead_at"] = .timestamp(insteadAt) }
        if !doneTimers.isEmpty { o["done_timers"] = .array(doneTimers.map(Value.string)) }
        if !held.isEmpty { o["held"] = .array(held.map(\.encoded)) }
        if !spentTimers.isEmpty { o["spent_timers"] = .array(spentTimers.map(Value.string)) }
        return .object(o)
    }

    public init?(encoded v: Value) {
        guard let id = v["id"].stringValue, let flow = v["flow"].stringValue, let version = v["version"].stringValue,
              let key = v["key"].stringValue, let state = v["state"].stringValue, let entered = v["entered_at"].asTimestamp,
              let entry = v["entry"].numberValue, let started = v["started_at"].asTimestamp, let seq = v["seq"].numberValue
        else { return nil }
        self.init(id: id, flow: flow, version: version, key: key,
                  status: v["outcome"].stringValue.map { .ended(outcome: $0) } ?? .active,
                  state: state, stateEnteredAt: entered, entry: Int(entry), startedAt: started,
                  context: v["context"].objectValue ?? [:],
                  mergedAt: (v["merged_at"].objectValue ?? [:]).compactMapValues(\.asTimestamp),
                  vars: v["vars"].objectValue ?? [:], seq: Int(seq), insteadAt: v["instead_at"].asTimestamp,
                  doneTimers: v["done_timers"].arrayValue?.compactMap(\.stringValue) ?? [],
                  held: v["held"].arrayValue?.compactMap(HeldMessage.init(encoded:)) ?? [],
                  spentTimers: v["spent_timers"].arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

extension HeldMessage {
    public var encoded: Value {
        .object(["timer": .string(timer), "entry": .number(Double(entry)), "scope": .string(scope.rawValue),
                 "queued_at": .timestamp(queuedAt), "key": .string(key), "connector": .string(connector), "path": .string(path)])
    }

    public init?(encoded v: Value) {
        guard let timer = v["timer"].stringValue, let entry = v["entry"].numberValue, let scope = v["scope"].stringValue.flatMap(DeferScope.init),
              let queuedAt = v["queued_at"].asTimestamp, let key = v["key"].stringValue, let connector = v["connector"].stringValue,
              let path = v["path"].stringValue
        else { return nil }
        self.init(timer: timer, entry: Int(entry), scope: scope, queuedAt: queuedAt, key: key, connector: connector, path: path)
    }
}

extension PlannedAction {
    public var encoded: Value {
        var o: [String: Value] = [
            "connector": .string(connector), "args": arguments, "key": .string(idempotencyKey), "path": .string(path),
            "audience": .string(audience.rawValue), "entry": .number(Double(entry)), "order": .number(Double(order)),
        ]
        if let template { o["template"] = .string(template) }
        if let retryAttempts { o["retry_attempts"] = .number(Double(retryAttempts)) }
        if let retryBackoff { o["retry_backoff"] = .number(retryBackoff) }
        if let candidate { o["candidate"] = .string(candidate) }
        return .object(o)
    }

    public init?(encoded v: Value) {
        guard let connector = v["connector"].stringValue, let key = v["key"].stringValue, let path = v["path"].stringValue,
              let audience = v["audience"].stringValue.flatMap(Audience.init(rawValue:)) else { return nil }
        self.init(connector: connector, arguments: v["args"], idempotencyKey: key, path: path, audience: audience,
                  template: v["template"].stringValue, retryAttempts: v["retry_attempts"].numberValue.map { Int($0) },
                  retryBackoff: v["retry_backoff"].numberValue, entry: Int(v["entry"].numberValue ?? 0),
                  order: Int(v["order"].numberValue ?? 0), candidate: v["candidate"].stringValue)
    }
}

extension TimerRecord {
    public var encoded: Value {
        var o: [String: Value] = [
            "id": .string(id), "journey": .string(journey), "due": .timestamp(due), "entry": .number(Double(entry)),
            "state_scoped": .bool(stateScoped), "armed_at": .timestamp(armedAt),
        ]
        if let windowEnd { o["window_end"] = .timestamp(windowEnd) }
        if let flow { o["flow"] = .string(flow) }
        if let key { o["key"] = .string(key) }
        switch kind {
        case .flow(let path): o["kind"] = "flow"; o["path"] = .string(path)
        case .timeout: o["kind"] = "timeout"
        case .deferred(let action, let scope): o["kind"] = "deferred"; o["action"] = action.encoded; o["scope"] = .string(scope.rawValue)
        }
        return .object(o)
    }

    public init?(encoded v: Value) {
        guard let id = v["id"].stringValue, let journey = v["journey"].stringValue, let due = v["due"].asTimestamp,
              let armed = v["armed_at"].asTimestamp else { return nil }
        let kind: TimerKind
        switch v["kind"].stringValue {
        case "flow":
            guard let path = v["path"].stringValue else { return nil }
            kind = .flow(path: path)
        case "timeout": kind = .timeout
        case "deferred":
            guard let action = PlannedAction(encoded: v["action"]) else { return nil }
            kind = .deferred(action: action, scope: v["scope"].stringValue.flatMap(DeferScope.init(rawValue:)) ?? .stateEntry)
        default: return nil
        }
        self.init(id: id, journey: journey, due: due, entry: Int(v["entry"].numberValue ?? 0),
                  stateScoped: v["state_scoped"].boolValue ?? false, kind: kind, windowEnd: v["window_end"].asTimestamp, armedAt: armed,
                  flow: v["flow"].stringValue, key: v["key"].stringValue)
    }
}

extension CanonicalEvent {
    public var encoded: Value { value }

    public init?(encoded v: Value) {
        guard let id = v["id"].stringValue, let type = v["type"].stringValue, let at = v["occurred_at"].asTimestamp else { return nil }
        self.init(id: id, type: type, occurredAt: at, source: v["source"].stringValue ?? "", data: v["data"])
    }
}

// The same JSON as `encoded.jsonString()`, written member by member in ascending key order
// (the store's encoding runs for every step; building the dictionaries first cost twice as much).
extension Journey {
    public var encodedJSON: String {
        var w = JSONObjectWriter(capacity: 1024)
        // A journey's times are mostly one or two instants (its start event's, the state's entry).
        var times = TimestampMemo()
        if let cached = contextJSON.value {
            w.add("context", json: cached)
        } else {
            let text = Value.object(context).jsonString()
            contextJSON.value = text
            w.add("context", json: text)
        }
        if !doneTimers.isEmpty { w.add("done_timers", .array(doneTimers.map(Value.string))) }
        w.add("entered_at", string: times.format(stateEnteredAt))
        w.add("entry", .number(Double(entry)))
        w.add("flow", string: flow)
        if !held.isEmpty { w.add("held", .array(held.map(\.encoded))) }
        w.add("id", string: id)
        if let insteadAt { w.add("instead_at", string: times.format(insteadAt)) }
        w.add("key", string: key)
        w.add("merged_at") { members in
            for (entity, date) in mergedAt.sorted(by: { $0.key < $1.key }) { members.add(JSONKey(entity), string: times.format(date)) }
        }
        if let outcome { w.add("outcome", string: outcome) }
        w.add("seq", .number(Double(seq)))
        if !spentTimers.isEmpty { w.add("spent_timers", .array(spentTimers.map(Value.string))) }
        w.add("started_at", string: times.format(startedAt))
        w.add("state", string: state)
        w.add("vars", .object(vars))
        w.add("version", string: version)
        return w.finish()
    }
}

extension PlannedAction {
    public var encodedJSON: String {
        var w = JSONObjectWriter(capacity: 1024)
        write(into: &w)
        return w.finish()
    }

    func write(into w: inout JSONObjectWriter) {
        w.add("args", arguments)
        w.add("audience", string: audience.rawValue)
        if let candidate { w.add("candidate", string: candidate) }
        w.add("connector", string: connector)
        w.add("entry", .number(Double(entry)))
        w.add("key", string: idempotencyKey)
        w.add("order", .number(Double(order)))
        w.add("path", string: path)
        if let retryAttempts { w.add("retry_attempts", .number(Double(retryAttempts))) }
        if let retryBackoff { w.add("retry_backoff", .number(retryBackoff)) }
        if let template { w.add("template", string: template) }
    }
}

extension TimerRecord {
    public var encodedJSON: String {
        var w = JSONObjectWriter(capacity: 256)
        if case .deferred(let action, _) = kind { w.add("action") { action.write(into: &$0) } }
        w.add("armed_at", .timestamp(armedAt))
        w.add("due", .timestamp(due))
        w.add("entry", .number(Double(entry)))
        if let flow { w.add("flow", string: flow) }
        w.add("id", string: id)
        w.add("journey", string: journey)
        if let key { w.add("key", string: key) }
        switch kind {
        case .flow(let path): w.add("kind", string: "flow"); w.add("path", string: path)
        case .timeout: w.add("kind", string: "timeout")
        case .deferred(_, let scope): w.add("kind", string: "deferred"); w.add("scope", string: scope.rawValue)
        }
        w.add("state_scoped", .bool(stateScoped))
        if let windowEnd { w.add("window_end", .timestamp(windowEnd)) }
        return w.finish()
    }
}
