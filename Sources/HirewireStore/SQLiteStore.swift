import Foundation
import HirewireEngine
import HirewireLanguage

/// The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`, so a
/// committed step survives power loss. Writes are batched by the caller (group commit).
///
/// Thread rule: every use of the connection happens under `lock`, so the store may be shared
/// across tasks (`@unchecked Sendable`).
public final class SQLiteStore: JourneyStore, @unchecked Sendable {
    let db: SQLiteDatabase
    private let lock = NSLock()
    /// Events this process appended and has not yet processed, by inbox sequence: reading them
    /// back need not decode their stored JSON again (that decode was a third of the end-to-end
    /// cost). Only events whose stored form reads back identical are kept; after a restart the
    /// table is empty and events are decoded from the store as before.
    private var appended: [Int64: CanonicalEvent] = [:]
    private static let appendedLimit = 100_000
    public let path: String
    /// The second connection, for read-ahead snapshots (`openSnapshot`).
    let reader: SnapshotReader

    /// Opens (creating when needed) the database and brings its schema up to date.
    /// Why the file at `path` is not a Hirewire store, or nil when it is one (any schema
    /// version). Read without changing the file: commands that only read a store must not turn
    /// some other SQLite file, or an empty one, into a store by opening it.
    public static func problem(withExisting path: String) -> String? {
        guard let (version, tables, journeys) = SQLiteDatabase.peek(path) else { return "\(path) cannot be read as an SQLite database" }
        if version > 0 && journeys { return nil }
        return tables == 0 ? "\(path) is an empty file, not a Hirewire store" : "\(path) is an SQLite database, but not a Hirewire store"
    }

    public init(path: String) throws(StoreError) {
        self.path = path
        reader = SnapshotReader(path: path)
        db = try SQLiteDatabase(path: path)
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;")
        try SQLiteSchema.migrate(db)
    }

    func locked<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    static func json(_ value: Value) -> SQLValue { .text(value.jsonString()) }
    static func decode(_ text: String?) -> Value { text.flatMap(Value.parseStoredJSON) ?? .null }
    static func time(_ date: Date) -> SQLValue { .real(date.timeIntervalSince1970) }
    /// A `LIMIT` value: `Int.max` is no limit, which SQLite reads from a negative one.
    static func limit(_ n: Int) -> SQLValue { .integer(n == Int.max ? -1 : Int64(n)) }

    public func appendInbox(_ events: [CanonicalEvent], receivedAt: Date) throws(StoreError) -> [Bool] {
        try locked { () throws(StoreError) -> [Bool] in
            let (out, fresh) = try db.transaction { () throws(StoreError) -> ([Bool], [(Int64, CanonicalEvent)]) in
                try insertInbox(events, receivedAt: receivedAt)
            }
            rememberAppended(fresh)
            return out
        }
    }

    /// Inserts `events` into the inbox (inside the caller's transaction, with the lock held):
    /// per event, whether it was new, and the new ones that read back as they were given.
    private func insertInbox(_ events: [CanonicalEvent], receivedAt: Date) throws(StoreError) -> ([Bool], [(Int64, CanonicalEvent)]) {
        var out: [Bool] = []
        var fresh: [(Int64, CanonicalEvent)] = []
        for event in events {
            try db.query(static: "INSERT OR IGNORE INTO inbox (event_id, type, source, received_at, status, data) VALUES (?, ?, ?, ?, 'pending', ?)",
                         [.text(event.id), .text(event.type), .text(event.source), Self.time(receivedAt), Self.json(event.encoded)])
            let stored = db.changes == 1
            out.append(stored)
            if stored, StoredForm.readsBackAlike(event) { fresh.append((db.lastInsertRowid, event)) }
        }
        return (out, fresh)
    }

    /// Remembers appended events for the engine's next read, once their transaction has
    /// committed (a failed one threw before). Entries another writer processed are never removed
    /// here; when the table is full it starts again (what it forgets is read from the store, as
    /// after a restart).
    private func rememberAppended(_ fresh: [(Int64, CanonicalEvent)]) {
        if appended.count + fresh.count > Self.appendedLimit { appended.removeAll(keepingCapacity: true) }
        if fresh.count <= Self.appendedLimit { for (seq, event) in fresh { appended[seq] = event } }
    }

    public func pendingInbox(limit: Int) throws(StoreError) -> [InboxEvent] {
        try pendingInbox(limit: limit, after: 0)
    }

    public func pendingInbox(limit: Int, after: Int64) throws(StoreError) -> [InboxEvent] {
        try locked { () throws(StoreError) -> [InboxEvent] in
            var out: [InboxEvent] = []
            var unreadable: [Int64] = []
            // The stored JSON is read and decoded only for events this process did not append itself.
            try db.query("SELECT seq, received_at, data FROM inbox WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
                         [.integer(after), .integer(Int64(limit))]) { row in
                let seq = row.integer(0)
                if let event = appended[seq] ?? CanonicalEvent(encoded: Self.decode(row.text(2))) {
                    out.append(InboxEvent(sequence: seq, event: event, receivedAt: Date(timeIntervalSince1970: row.real(1))))
                } else {
                    unreadable.append(seq)
                }
            }
            // A row that cannot be read is parked with its reason (`hirewire events` shows it)
            // instead of staying pending, unseen, for ever.
            for seq in unreadable {
                try db.query("UPDATE inbox SET status = 'failed', reason = ? WHERE seq = ?",
                             [.text("the stored event cannot be read back (damaged row)"), .integer(seq)])
            }
            return out
        }
    }

    public func liveStates(flow: String) throws(StoreError) -> [(version: String, state: String, count: Int)] {
        try locked { () throws(StoreError) -> [(version: String, state: String, count: Int)] in
            var out: [(version: String, state: String, count: Int)] = []
            try db.query("SELECT version, state, COUNT(*) FROM journeys WHERE flow = ? AND active = 1 GROUP BY version, state ORDER BY version, state",
                         [.text(flow)]) { row in
                out.append((row.text(0) ?? "", row.text(1) ?? "", Int(row.integer(2))))
            }
            return out
        }
    }

    public func journeysTouched(eventIds: [String]) throws(StoreError) -> [String: [String]] {
        try locked { () throws(StoreError) -> [String: [String]] in
            var out: [String: [String]] = [:]
            for id in eventIds {
                try db.query("SELECT journeys FROM inbox WHERE event_id = ?", [.text(id)]) { row in
                    out[id] = Self.decode(row.text(0)).arrayValue?.compactMap(\.stringValue) ?? []
                }
            }
            return out
        }
    }

    public func applicationProfile(_ id: String) throws(StoreError) -> Value? {
        try locked { () throws(StoreError) -> Value? in
            var out: Value?
            try db.query("SELECT data FROM applications WHERE id = ?", [.text(id)]) { row in out = Self.decode(row.text(0)) }
            return out
        }
    }

    public func saveApplicationProfile(_ id: String, _ profile: Value, at: Date) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.query("INSERT INTO applications (id, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                         [.text(id), Self.json(profile), Self.time(at)])
        }
    }

    public func appendDeliveries(_ deliveries: [Delivery]) throws(StoreError) -> [Bool] {
        try locked { () throws(StoreError) -> [Bool] in
            try db.transaction { () throws(StoreError) -> [Bool] in
                var fresh: [Bool] = []
                fresh.reserveCapacity(deliveries.count)
                for delivery in deliveries {
                    try db.query(static: "INSERT OR IGNORE INTO deliveries (source, event_id, received_at, headers, body, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [.text(delivery.source), .text(delivery.eventId), Self.time(delivery.receivedAt),
                                  Self.json(.object(delivery.headers.mapValues(Value.string))), .text(String(decoding: delivery.body, as: UTF8.self)),
                                  .text(delivery.status), .text(delivery.detail)])
                    let stored = db.changes == 1
                    if !stored {
                        try db.query(static: "UPDATE deliveries SET duplicates = duplicates + 1 WHERE source = ? AND event_id = ?",
                                     [.text(delivery.source), .text(delivery.eventId)])
                    }
                    fresh.append(stored)
                }
                return fresh
            }
        }
    }

    private func deliveryRows(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [Delivery] {
        var out: [Delivery] = []
        try db.query(sql, bindings) { row in
            let headers = (Self.decode(row.text(4)).objectValue ?? [:]).compactMapValues(\.stringValue)
            out.append(Delivery(sequence: row.integer(0), source: row.text(1) ?? "", eventId: row.text(2) ?? "",
                                receivedAt: Date(timeIntervalSince1970: row.real(3)), headers: headers, body: Array((row.text(5) ?? "").utf8),
                                status: row.text(6) ?? "", detail: row.text(7) ?? "", duplicates: Int(row.integer(8))))
        }
        return out
    }

    public func pendingDeliveries(limit: Int) throws(StoreError) -> [Delivery] {
        try locked { () throws(StoreError) -> [Delivery] in
            try deliveryRows("SELECT seq, source, event_id, received_at, headers, body, status, detail, duplicates FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT ?",
                             [.integer(Int64(limit))])
        }
    }

    public func deliveries(_ query: DeliveryQuery) throws(StoreError) -> [Delivery] {
        var filters: [String] = []
        var bindings: [SQLValue] = []
        if let source = query.source {
            filters.append("source = ?")
            bindings.append(.text(source))
        }
        if let id = query.eventId {
            filters.append("event_id = ?")
            bindings.append(.text(id))
        }
        if let since = query.since {
            filters.append("received_at >= ?")
            bindings.append(Self.time(since))
        }
        if let type = query.mappedTo {
            filters.append("status = 'accepted' AND detail = ?")
            bindings.append(.text(type))
        }
        let filter = filters.isEmpty ? "" : " WHERE " + filters.joined(separator: " AND ")
        bindings.append(Self.limit(query.limit))
        return try locked { () throws(StoreError) -> [Delivery] in
            try deliveryRows("SELECT seq, source, event_id, received_at, headers, body, status, detail, duplicates FROM deliveries\(filter) ORDER BY seq DESC LIMIT ?",
                             bindings)
        }
    }

    public func markDelivery(_ sequence: Int64, status: String, detail: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.query("UPDATE deliveries SET status = ?, detail = ? WHERE seq = ?", [.text(status), .text(detail), .integer(sequence)])
        }
    }

    public func commitMapping(_ outcomes: DeliveryOutcomes, at: Date) throws(StoreError) {
        guard !outcomes.isEmpty else { return }
        try locked { () throws(StoreError) in
            let fresh = try db.transaction { () throws(StoreError) -> [(Int64, CanonicalEvent)] in
                // Only a delivery still waiting to be mapped (pending, or in review) takes its
                // outcome; one dismissed by a person since the batch read it stays dismissed, and
                // its event stays out of the inbox.
                var taken: Set<Int64> = []
                for mark in outcomes.marks {
                    try db.query(static: "UPDATE deliveries SET status = ?, detail = ?, application = ? WHERE seq = ? AND status IN ('pending', 'review')",
                                 [.text(mark.status), .text(mark.detail), mark.application.map(SQLValue.text) ?? .null, .integer(mark.sequence)])
                    if db.changes == 1 { taken.insert(mark.sequence) }
                }
                let (_, fresh) = try insertInbox(outcomes.events.filter { taken.contains($0.delivery) }.map(\.event), receivedAt: at)
                // A profile is not written back over an erasure that ran while the batch was
                // mapped: its delivery is no longer waiting (erased, or dismissed), or the stored
                // profile it built on is gone.
                let refused = Set(outcomes.events.filter { !taken.contains($0.delivery) }.compactMap { $0.event.data["application"]["id"].idText })
                for (application, profile) in outcomes.profiles.sorted(by: { $0.key < $1.key }) where !refused.contains(application) {
                    if outcomes.readProfiles.contains(application) {
                        var stored = false
                        try db.query(static: "SELECT 1 FROM applications WHERE id = ?", [.text(application)]) { _ in stored = true }
                        if !stored { continue }
                    }
                    try db.query(static: "INSERT INTO applications (id, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                                 [.text(application), Self.json(profile), Self.time(at)])
                }
                return fresh
            }
            rememberAppended(fresh)
        }
    }

    public func reviewedDeliveries(application: String) throws(StoreError) -> [Delivery] {
        try locked { () throws(StoreError) -> [Delivery] in
            try deliveryRows("SELECT seq, source, event_id, received_at, headers, body, status, detail, duplicates FROM deliveries WHERE application = ? AND status = 'review' ORDER BY seq LIMIT 100",
                             [.text(application)])
        }
    }

    public func recordRejection(at: Date, source: String, status: Int, reason: String, peer: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.query("INSERT INTO rejections (at, source, status, reason, peer) VALUES (?, ?, ?, ?, ?)",
                         [Self.time(at), .text(source), .integer(Int64(status)), .text(reason), .text(peer)])
        }
    }

    public func rejections(limit: Int) throws(StoreError) -> [(at: Date, source: String, status: Int, reason: String, peer: String)] {
        try locked { () throws(StoreError) -> [(at: Date, source: String, status: Int, reason: String, peer: String)] in
            var out: [(at: Date, source: String, status: Int, reason: String, peer: String)] = []
            try db.query("SELECT at, source, status, reason, peer FROM rejections ORDER BY rowid DESC LIMIT ?", [.integer(Int64(limit))]) { row in
                out.append((Date(timeIntervalSince1970: row.real(0)), row.text(1) ?? "", Int(row.integer(2)), row.text(3) ?? "", row.text(4) ?? ""))
            }
            return out
        }
    }

    public func auditEntries(kind: String, limit: Int) throws(StoreError) -> [TimelineEntry] {
        try locked { () throws(StoreError) -> [TimelineEntry] in
            var out: [TimelineEntry] = []
            // Kinds other than the single-row ones may also sit in packed `entries` rows.
            let packed = !EncodedStep.singleRowKinds.contains(kind)
            try db.query("SELECT journey, flow, key, at, kind, data FROM audit WHERE kind = ? OR (? AND kind = 'entries') ORDER BY id DESC",
                         [.text(kind), .integer(packed ? 1 : 0)]) { row in
                guard out.count < limit else { return }
                let entries = Self.entries(journey: row.text(0) ?? "", flow: row.text(1) ?? "", key: row.text(2) ?? "", at: row.real(3),
                                           kind: row.text(4) ?? "", data: Self.decode(row.text(5)))
                for entry in entries.reversed() where entry.kind == kind && out.count < limit { out.append(entry) }
            }
            return out
        }
    }

    public func depths() throws(StoreError) -> (timers: Int, inbox: Int, deliveries: Int) {
        try locked { () throws(StoreError) -> (timers: Int, inbox: Int, deliveries: Int) in
            var out = (timers: 0, inbox: 0, deliveries: 0)
            try db.query("""
                SELECT (SELECT COUNT(*) FROM timers), (SELECT COUNT(*) FROM inbox WHERE status = 'pending'),
                       (SELECT COUNT(*) FROM deliveries WHERE status = 'pending')
                """) { row in out = (Int(row.integer(0)), Int(row.integer(1)), Int(row.integer(2))) }
            return out
        }
    }

    public func failInbox(_ sequence: Int64, reason: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.query("UPDATE inbox SET status = 'failed', reason = ? WHERE seq = ? AND status = 'pending'", [.text(reason), .integer(sequence)])
            appended[sequence] = nil
        }
    }

    public func failedInbox() throws(StoreError) -> [(event: CanonicalEvent, reason: String)] {
        try locked { () throws(StoreError) -> [(event: CanonicalEvent, reason: String)] in
            var out: [(event: CanonicalEvent, reason: String)] = []
            try db.query("SELECT data, reason FROM inbox WHERE status = 'failed' ORDER BY seq") { row in
                if let event = CanonicalEvent(encoded: Self.decode(row.text(0))) { out.append((event, row.text(1) ?? "")) }
            }
            return out
        }
    }

    private func journeys(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [Journey] {
        try Self.journeys(in: db, sql, bindings)
    }

    static func journeys(in db: SQLiteDatabase, _ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [Journey] {
        var out: [Journey] = []
        try db.query(sql, bindings) { row in
            if let j = Journey(encoded: Self.decode(row.text(0))) { out.append(j) }
        }
        return out
    }

    public func activeJourney(flow: String, key: String) throws(StoreError) -> Journey? {
        try locked { () throws(StoreError) -> Journey? in
            try journeys("SELECT data FROM journeys WHERE flow = ? AND key = ? AND active = 1", [.text(flow), .text(key)]).first
        }
    }

    /// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`.
    static func jsonList(_ items: [String]) -> SQLValue { json(.array(items.map(Value.string))) }

    public func journeys(ids: [String]) throws(StoreError) -> [String: Journey] {
        try locked { () throws(StoreError) -> [String: Journey] in try Self.journeys(in: db, ids: ids) }
    }

    public func journeyIndex(flow: String, keys: [String]) throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>) {
        try locked { () throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>) in
            try Self.journeyIndex(in: db, flow: flow, keys: keys)
        }
    }

    public func recentMessages(candidates: [String], since: Date) throws(StoreError) -> [String: [Date]] {
        try locked { () throws(StoreError) -> [String: [Date]] in try Self.recentMessages(in: db, candidates: candidates, since: since) }
    }

    // The batch reads, on either connection (the store's own, or a snapshot's).

    static func journeys(in db: SQLiteDatabase, ids: [String]) throws(StoreError) -> [String: Journey] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: Journey] = [:]
        for j in try journeys(in: db, "SELECT data FROM journeys WHERE id IN (SELECT value FROM json_each(?))", [jsonList(ids)]) { out[j.id] = j }
        return out
    }

    static func journeyIndex(in db: SQLiteDatabase, flow: String, keys: [String]) throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>) {
        guard !keys.isEmpty else { return ([:], []) }
        var active: [String: (id: String, seq: Int)] = [:]
        var had: Set<String> = []
        try db.query("SELECT key, id, seq, active FROM journeys WHERE flow = ? AND key IN (SELECT value FROM json_each(?))",
                     [.text(flow), jsonList(keys)]) { row in
            guard let key = row.text(0), let id = row.text(1) else { return }
            had.insert(key)
            if row.integer(3) == 1 { active[key] = (id, Int(row.integer(2))) }
        }
        return (active, had)
    }

    static func recentMessages(in db: SQLiteDatabase, candidates: [String], since: Date) throws(StoreError) -> [String: [Date]] {
        guard !candidates.isEmpty else { return [:] }
        var out: [String: [Date]] = [:]
        for c in candidates { out[c] = [] }
        try db.query("SELECT candidate, at FROM messages WHERE candidate IN (SELECT value FROM json_each(?)) AND at > ? ORDER BY at",
                     [jsonList(candidates), time(since)]) { row in
            if let c = row.text(0) { out[c, default: []].append(Date(timeIntervalSince1970: row.real(1))) }
        }
        return out
    }

    public func journey(id: String) throws(StoreError) -> Journey? {
        try locked { () throws(StoreError) -> Journey? in try journeys("SELECT data FROM journeys WHERE id = ?", [.text(id)]).first }
    }

    public func journeys(flow: String, key: String) throws(StoreError) -> [Journey] {
        try locked { () throws(StoreError) -> [Journey] in
            try journeys("SELECT data FROM journeys WHERE flow = ? AND key = ? ORDER BY started_at DESC, id DESC", [.text(flow), .text(key)])
        }
    }

    public func activeJourneys(flow: String, notVersion version: String) throws(StoreError) -> [Journey] {
        try locked { () throws(StoreError) -> [Journey] in
            try journeys("SELECT data FROM journeys WHERE flow = ? AND active = 1 AND version != ?", [.text(flow), .text(version)])
        }
    }

    public func hadJourney(flow: String, key: String) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) -> Bool in
            var found = false
            try db.query("SELECT 1 FROM journeys WHERE flow = ? AND key = ? LIMIT 1", [.text(flow), .text(key)]) { _ in found = true }
            return found
        }
    }

    public func commitReplay(_ steps: [StepCommit], ignored: [TimelineEntry], resolvingReview number: Int64, at: Date) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) -> Bool in
            try db.transaction { () throws(StoreError) -> Bool in
                guard try resolveLocked(.review, number, at: at, how: "replayed") else { return false }
                try write(steps, ignored: ignored)
                return true
            }
        }
    }

    public func commit(_ steps: [StepCommit], processedInbox: [Int64], ignored: [TimelineEntry], touched: [Int64: [String]]) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.transaction { () throws(StoreError) in
                for seq in processedInbox {
                    appended[seq] = nil
                    let journeys = touched[seq].map { Self.json(.array($0.map(Value.string))) } ?? .null
                    // Only a pending event: one another engine on this file processed (or
                    // parked) since this batch read it must not have its effects twice.
                    try db.query(static: "UPDATE inbox SET status = 'processed', journeys = ? WHERE seq = ? AND status = 'pending'", [journeys, .integer(seq)])
                    guard db.changes == 1 else { throw StoreError.inboxTaken(seq) }
                }
                try write(steps, ignored: ignored)
            }
        }
    }

    /// Writes steps and the audit rows of events that reached no journey (inside a transaction).
    private func write(_ steps: [StepCommit], ignored: [TimelineEntry]) throws(StoreError) {
        for step in steps { try write(step) }
        // A row each: these come from different events (none reached a journey).
        for entry in ignored { try insert(EncodedStep.auditRows([entry])) }
    }

    /// The timeline entries of one audit row: itself, or the entries a packed `entries` row holds.
    static func entries(journey: String, flow: String, key: String, at: Double, kind: String, data: Value) -> [TimelineEntry] {
        guard kind == "entries" else {
            return [TimelineEntry(at: Date(timeIntervalSince1970: at), flow: flow, journey: journey, key: key, kind: kind,
                                  fields: TimelineFields(data.objectValue ?? [:]))]
        }
        return (data.arrayValue ?? []).map { packed in
            TimelineEntry(at: packed["at"].asTimestamp ?? Date(timeIntervalSince1970: at), flow: flow, journey: journey, key: key,
                          kind: packed["kind"].stringValue ?? "", fields: TimelineFields(packed["fields"].objectValue ?? [:]))
        }
    }

    /// A counted candidate message stops counting for `max_messages` (dropped, dead-lettered).
    /// A row counted before migration 10 has no action key: then one such row of the journey,
    /// counted at `at` (when the message was queued), goes instead — without it, a message that
    /// died kept counting, and counted twice once replayed.
    func uncountMessage(candidate: String, action: String, journey: String, at: () throws(StoreError) -> Date?) throws(StoreError) {
        try db.query(static: "DELETE FROM messages WHERE candidate = ? AND action = ?", [.text(candidate), .text(action)])
        guard db.changes == 0, let at = try at() else { return }
        try db.query(static: """
            DELETE FROM messages WHERE rowid = (SELECT rowid FROM messages
              WHERE candidate = ?1 AND at = ?2 AND journey = ?3 AND action IS NULL LIMIT 1)
            """, [.text(candidate), Self.time(at), .text(journey)])
    }

    /// Inserts audit rows as `EncodedStep.auditRows` made them.
    private func insert(_ rows: [EncodedStep.AuditRow]) throws(StoreError) {
        for row in rows {
            try db.query(static: "INSERT INTO audit (journey, flow, key, at, kind, data) VALUES (?, ?, ?, ?, ?, ?)",
                         [.text(row.first.journey), .text(row.first.flow), .text(row.first.key), Self.time(row.first.at), .text(row.kind), .text(row.data)])
        }
    }

    private func write(_ step: StepCommit) throws(StoreError) {
        let result = step.result
        let encoded = step.encoded ?? EncodedStep(result)
        if let fired = step.firedTimer { try db.query(static: "DELETE FROM timers WHERE id = ?", [.text(fired)]) }
        if let j = result.journey {
            try db.query(static: """
                INSERT INTO journeys (id, flow, version, key, state, active, outcome, started_at, updated_at, data, seq, ended_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state, active = excluded.active,
                  outcome = excluded.outcome, updated_at = excluded.updated_at, data = excluded.data, seq = excluded.seq,
                  ended_at = COALESCE(journeys.ended_at, excluded.ended_at)
                  WHERE journeys.seq < excluded.seq
                """, [.text(j.id), .text(j.flow), .text(j.version), .text(j.key), .text(j.state), .integer(j.isActive ? 1 : 0),
                      j.outcome.map(SQLValue.text) ?? .null, Self.time(j.startedAt), Self.time(j.stateEnteredAt), .text(encoded.journey ?? j.encodedJSON), .integer(Int64(j.seq)),
                      j.isActive ? .null : Self.time(result.timeline.last?.at ?? j.stateEnteredAt)])
            // Every step numbers the journey one higher; a row already at this number or beyond
            // was written by another writer after this step read the journey (a lost update).
            // Transient: computed again from a fresh read, the same work succeeds.
            guard db.changes == 1 else { throw StoreError.staleJourney(j.id) }
            if step.cancelPendingActions {
                // Never sent, so they stop counting for `max_messages` too.
                try db.query(static: """
                    DELETE FROM messages WHERE journey = ?1
                      AND action IN (SELECT idempotency_key FROM outbox WHERE status = 'pending' AND journey = ?1)
                    """, [.text(j.id)])
                // One being sent now cannot be called back, but it is not tried again: a failed
                // attempt finds it cancelled instead of putting it back (an attempt that got
                // through is still recorded as sent).
                try db.query(static: "UPDATE outbox SET status = 'cancelled' WHERE status IN ('pending', 'sending') AND journey = ?", [.text(j.id)])
            }
            if let candidate = j.context["candidate"]?["id"].stringValue {
                for message in result.candidateMessages {
                    try db.query(static: "INSERT INTO messages (candidate, at, journey, action) VALUES (?, ?, ?, ?)",
                                 [.text(candidate), Self.time(message.at), .text(j.id), .text(message.key)])
                }
                for message in result.withdrawnMessages { try uncountMessage(candidate: candidate, action: message.key, journey: j.id, at: { message.at }) }
            }
        }
        for id in result.cancelTimers { try db.query(static: "DELETE FROM timers WHERE id = ?", [.text(id)]) }
        for (i, timer) in result.armTimers.enumerated() {
            try db.query(static: "INSERT OR REPLACE INTO timers (id, journey, due, data) VALUES (?, ?, ?, ?)",
                         [.text(timer.id), .text(timer.journey), Self.time(timer.due), .text(encoded.timers[i])])
        }
        for (i, action) in result.actions.enumerated() {
            try db.query(static: """
                INSERT OR IGNORE INTO outbox (idempotency_key, journey, connector, status, created_at, data, chain, ord, next_at)
                VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)
                """, [.text(action.idempotencyKey), .text(result.journey?.id ?? ""), .text(action.connector),
                      Self.time(result.timeline.last?.at ?? Date()), .text(encoded.actions[i]), .text(action.chain),
                      .integer(Int64(action.order)), Self.time(result.timeline.last?.at ?? Date())])
        }
        try insert(encoded.audit)
    }

    private func timerRows(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [TimerRecord] {
        var out: [TimerRecord] = []
        try db.query(sql, bindings) { row in
            if let t = TimerRecord(encoded: Self.decode(row.text(0))) { out.append(t) }
        }
        return out
    }

    public func dueTimers(at time: Date, limit: Int) throws(StoreError) -> [TimerRecord] {
        try locked { () throws(StoreError) -> [TimerRecord] in
            while true {
                var out: [TimerRecord] = []
                var unreadable: [String] = []
                try db.query("SELECT id, data FROM timers WHERE due <= ? ORDER BY due, id LIMIT ?",
                             [Self.time(time), .integer(Int64(limit))]) { row in
                    if let t = TimerRecord(encoded: Self.decode(row.text(1))) { out.append(t) } else { unreadable.append(row.text(0) ?? "") }
                }
                guard !unreadable.isEmpty else { return out }
                // A row that cannot be read is parked with its reason (`hirewire dead-letters`
                // lists it), and the query runs again, from the start, for the good timers
                // behind it (keeping the first run's good rows as well returned them twice).
                var parked = 0
                try db.transaction { () throws(StoreError) in
                    for id in unreadable {
                        try db.query("""
                            INSERT INTO timers_broken (id, journey, due, data, reason, parked_at)
                            SELECT id, journey, due, data, ?, ? FROM timers WHERE id = ?
                            """, [.text("the stored timer cannot be read back (damaged row)"), Self.time(Date()), .text(id)])
                        try db.query("DELETE FROM timers WHERE id = ?", [.text(id)])
                        parked += db.changes
                    }
                }
                // Rows that could not be moved (an id that is not text) would come back every
                // time: the good rows read are returned as they are, and nothing spins.
                if parked == 0 { return out }
            }
        }
    }

    public func nextDue() throws(StoreError) -> Date? {
        try locked { () throws(StoreError) -> Date? in
            var due: Date?
            try db.query("SELECT MIN(due) FROM timers") { row in if !row.isNull(0) { due = Date(timeIntervalSince1970: row.real(0)) } }
            return due
        }
    }

    public func timers(dueBefore: Date?) throws(StoreError) -> [TimerRecord] {
        try locked { () throws(StoreError) -> [TimerRecord] in
            try timerRows("SELECT data FROM timers WHERE due < ? ORDER BY due, id",
                          [Self.time(dueBefore ?? Date.distantFuture)])
        }
    }

    public func timers(journey: String) throws(StoreError) -> [TimerRecord] {
        try locked { () throws(StoreError) -> [TimerRecord] in
            // A journey's timer ids start with its id and "/": the range keeps the lookup on the key.
            try timerRows("SELECT data FROM timers WHERE id >= ? AND id < ? AND journey = ? ORDER BY due, id",
                          [.text(journey + "/"), .text(journey + "0"), .text(journey)])
        }
    }

    public func recentMessages(candidate: String, since: Date) throws(StoreError) -> [Date] {
        try locked { () throws(StoreError) -> [Date] in
            var out: [Date] = []
            try db.query("SELECT at FROM messages WHERE candidate = ? AND at > ? ORDER BY at", [.text(candidate), Self.time(since)]) { row in
                out.append(Date(timeIntervalSince1970: row.real(0)))
            }
            return out
        }
    }

    public func timeline(journey: String) throws(StoreError) -> [TimelineEntry] {
        try locked { () throws(StoreError) -> [TimelineEntry] in
            var out: [TimelineEntry] = []
            try db.query("SELECT flow, key, at, kind, data FROM audit WHERE journey = ? ORDER BY id", [.text(journey)]) { row in
                out += Self.entries(journey: journey, flow: row.text(0) ?? "", key: row.text(1) ?? "", at: row.real(2), kind: row.text(3) ?? "",
                                    data: Self.decode(row.text(4)))
            }
            return out
        }
    }

    public func outbox(journey: String?) throws(StoreError) -> [PlannedAction] {
        try locked { () throws(StoreError) -> [PlannedAction] in
            var out: [PlannedAction] = []
            let sql = journey == nil ? "SELECT data FROM outbox ORDER BY seq" : "SELECT data FROM outbox WHERE journey = ? ORDER BY seq"
            try db.query(sql, journey.map { [.text($0)] } ?? []) { row in
                if let a = PlannedAction(encoded: Self.decode(row.text(0))) { out.append(a) }
            }
            return out
        }
    }

    public func saveVersion(flow: String, version: String, source: String, at: Date) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.query("INSERT OR IGNORE INTO flow_versions (flow, version, source, created_at) VALUES (?, ?, ?, ?)",
                         [.text(flow), .text(version), .text(source), Self.time(at)])
        }
    }

    public func versionSource(flow: String, version: String) throws(StoreError) -> String? {
        try locked { () throws(StoreError) -> String? in
            var source: String?
            try db.query("SELECT source FROM flow_versions WHERE flow = ? AND version = ?", [.text(flow), .text(version)]) { row in source = row.text(0) }
            return source
        }
    }
}
