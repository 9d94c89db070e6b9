import Foundation
import HirewireEngine
import HirewireLanguage

/// A step's rows as the store writes them: every JSON text already made. Encoding is most of
/// a commit's CPU, so the engine encodes a batch on its own thread while the store's
/// transaction for the batch before is still being written (see `JourneyEngine.processInbox`).
public struct EncodedStep: Sendable {
    /// The journey's JSON form (`Journey.encoded`).
    public var journey: String?
    /// Each armed timer's JSON form, in `armTimers` order.
    public var timers: [String]
    /// Each action's JSON form, in `actions` order.
    public var actions: [String]
    /// The step's audit rows in order: a dead-letter entry alone, runs of other entries packed.
    public var audit: [AuditRow]

    /// One audit row: the entry it starts with (journey, flow, key, time), its kind, its JSON data.
    public struct AuditRow: Sendable {
        public var first: TimelineEntry
        public var kind: String
        public var data: String
    }

    /// Kinds of audit entries stored one to a row: dead letters refer to them by row id.
    public static let singleRowKinds: Set<String> = ["review", "action_failed"]

    public init(_ result: StepResult) {
        journey = result.journey.map(\.encodedJSON)
        timers = result.armTimers.map(\.encodedJSON)
        actions = result.actions.map(\.encodedJSON)
        audit = Self.auditRows(result.timeline)
    }

    /// An entry's stored fields as a JSON object, keys in order (no dictionary in between). An
    /// `action` entry's rendered arguments live in its outbox row (same idempotency key), not twice.
    static func storedJSON(_ entry: TimelineEntry, into w: inout JSONObjectWriter) {
        let pairs = entry.fields.pairs
        let skipArgs = entry.kind == "action"
        // Steps write most entries' fields in ascending key order already (so no key repeats):
        // those are written as they are, with no set and no sort.
        if zip(pairs, pairs.dropFirst()).allSatisfy({ $0.0 < $1.0 }) {
            for (key, value) in pairs where !(skipArgs && key == "args") { w.add(JSONKey(key), value) }
            return
        }
        var seen: Set<String> = []
        var kept: [(String, Value)] = []
        // The last of repeated keys wins, as in a dictionary; then ascending key order.
        for (key, value) in pairs.reversed() where seen.insert(key).inserted && !(skipArgs && key == "args") {
            kept.append((key, value))
        }
        for (key, value) in kept.sorted(by: { $0.0 < $1.0 }) { w.add(JSONKey(key), value) }
    }

    /// Packs runs of ordinary entries into one row of kind `entries` (an array of
    /// `{at, kind, fields}`), so a step writes one or two audit rows instead of eight.
    public static func auditRows(_ entries: [TimelineEntry]) -> [AuditRow] {
        var rows: [AuditRow] = []
        var run: [TimelineEntry] = []
        func single(_ entry: TimelineEntry) -> AuditRow {
            var w = JSONObjectWriter(capacity: 256)
            storedJSON(entry, into: &w)
            return AuditRow(first: entry, kind: entry.kind, data: w.finish())
        }
        func flush() {
            guard let first = run.first else { return }
            if run.count == 1 {
                rows.append(single(first))
            } else {
                let packed = ByteBuffer(capacity: run.count * 160)
                packed.append(91)
                // A step's entries share their time (the step's clock): it is formatted once.
                var times = TimestampMemo()
                for (i, entry) in run.enumerated() {
                    if i > 0 { packed.append(44) }
                    var w = JSONObjectWriter(into: packed)
                    w.add("at", string: times.format(entry.at))
                    w.add("fields") { storedJSON(entry, into: &$0) }
                    w.add("kind", string: entry.kind)
                    w.close()
                }
                packed.append(93)
                rows.append(AuditRow(first: first, kind: "entries", data: packed.string))
            }
            run.removeAll(keepingCapacity: true)
        }
        for entry in entries {
            if singleRowKinds.contains(entry.kind) {
                flush()
                rows.append(single(entry))
            } else {
                run.append(entry)
            }
        }
        flush()
        return rows
    }
}

/// Whether a record reads back from its stored JSON exactly as it is in memory, so that a copy
/// kept in memory and one read after a restart behave the same. Times are stored to the
/// millisecond; timestamps and durations inside values are stored as strings.
public enum StoredForm {
    /// `date` as it reads back from the store.
    public static func normalized(_ date: Date) -> Date { Timestamp.parse(Timestamp.format(date)) ?? date }

    public static func exact(_ date: Date) -> Bool {
        // Whole seconds of years 1 to 9999 are written without a fraction and read back as they
        // were. A date holds its time since 2001, whole exactly when the time since 1970 is
        // (`timeIntervalSince1970` is computed from it and can round a tiny fraction away).
        let t = date.timeIntervalSinceReferenceDate
        if t == t.rounded(.down), t >= -63_113_904_000, t < 252_423_993_600 { return true }
        return normalized(date) == date
    }

    /// True when `value` holds only JSON's own kinds.
    public static func plain(_ value: Value) -> Bool {
        switch value {
        case .timestamp, .duration: return false
        case .array(let items): return items.allSatisfy(plain)
        case .object(let members): return members.values.allSatisfy(plain)
        case .number(let n): return n.isFinite
        default: return true
        }
    }

    public static func readsBackAlike(_ event: CanonicalEvent) -> Bool {
        exact(event.occurredAt) && plain(event.data)
    }

    public static func readsBackAlike(_ journey: Journey) -> Bool {
        var known: Set<Date> = []
        return readsBackAlike(journey, knownExact: &known)
    }

    /// The same, remembering in `knownExact` the times found exact: the journeys of one batch
    /// share most of their times (the batch's clock), and each is then checked once.
    public static func readsBackAlike(_ journey: Journey, knownExact: inout Set<Date>) -> Bool {
        func check(_ date: Date) -> Bool {
            if knownExact.contains(date) { return true }
            guard exact(date) else { return false }
            knownExact.insert(date)
            return true
        }
        return check(journey.startedAt) && check(journey.stateEnteredAt) && (journey.insteadAt.map(check) ?? true)
            && journey.mergedAt.values.allSatisfy(check) && journey.held.allSatisfy { check($0.queuedAt) }
            && journey.context.values.allSatisfy(plain) && journey.vars.values.allSatisfy(plain)
    }
}
