import Foundation
import HirewireEngine
import HirewireLanguage

extension SQLiteStore {
    public func deadLetters(_ query: DeadLetterQuery) throws(StoreError) -> [DeadLetter] {
        try locked { () throws(StoreError) -> [DeadLetter] in
            var out: [DeadLetter] = []
            let limit = Self.limit(query.limit)
            if query.reads(.delivery) {
                let (filter, bindings) = Self.numberFilter(query, column: "seq")
                try db.query("SELECT seq, source, event_id, received_at, body, detail FROM deliveries WHERE status = 'review'\(filter) ORDER BY seq DESC LIMIT ?",
                             bindings + [limit]) { row in
                    let body = row.text(4) ?? ""
                    out.append(DeadLetter(kind: .delivery, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(3)),
                                          what: "\(row.text(1) ?? "") \(row.text(2) ?? "")", reason: row.text(5) ?? "",
                                          detail: (try? Value.parseJSON(Data(body.utf8))) ?? .string(body)))
                }
            }
            if query.reads(.event) {
                let (filter, bindings) = Self.numberFilter(query, column: "seq")
                try db.query("SELECT seq, received_at, data, reason FROM inbox WHERE status = 'failed'\(filter) ORDER BY seq DESC LIMIT ?",
                             bindings + [limit]) { row in
                    let data = Self.decode(row.text(2))
                    let event = CanonicalEvent(encoded: data)
                    out.append(DeadLetter(kind: .event, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                          what: "\(event?.type ?? "?") \(event?.id ?? "?")", reason: row.text(3) ?? "", detail: data))
                }
            }
            let auditKinds = [(DeadLetter.Kind.review, "review"), (.failed, "action_failed")].filter { query.reads($0.0) }.map(\.1)
            if !auditKinds.isEmpty {
                var (filter, bindings) = Self.numberFilter(query, column: "id")
                if let flow = query.flow {
                    filter += " AND flow = ?"
                    bindings.append(.text(flow))
                }
                if let ids = query.eventIds {
                    // One JSON list, not a parameter per id: SQLite takes at most 32,766 of
                    // those, and each length of list would be a statement of its own.
                    filter += " AND json_extract(data, '$.event_id') IN (SELECT value FROM json_each(?))"
                    bindings.append(Self.jsonList(ids))
                }
                let sql = """
                    SELECT id, flow, key, at, kind, data FROM audit WHERE kind IN (\(auditKinds.map { "'\($0)'" }.joined(separator: ", ")))\(filter)
                    AND \(Self.auditItemWaits) ORDER BY id DESC LIMIT ?
                    """
                try db.query(sql, bindings + [limit]) { row in out.append(Self.auditItem(row)) }
            }
            if query.reads(.action) {
                let (filter, bindings) = Self.numberFilter(query, column: "seq")
                try db.query("SELECT seq, COALESCE(done_at, created_at), connector, data, last_error, journey FROM outbox WHERE status = 'dead'\(filter) ORDER BY COALESCE(done_at, created_at) DESC, seq DESC LIMIT ?",
                             bindings + [limit]) { row in
                    let data = Self.decode(row.text(3))
                    out.append(DeadLetter(kind: .action, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                          what: "\(row.text(2) ?? "") \(row.text(5) ?? "") \(data["path"].displayString)", reason: row.text(4) ?? "", detail: data))
                }
            }
            if query.reads(.timer) {
                let (filter, bindings) = Self.numberFilter(query, column: "seq")
                try db.query("SELECT seq, parked_at, id, journey, due, data, reason FROM timers_broken WHERE status = 'waiting'\(filter) ORDER BY seq DESC LIMIT ?",
                             bindings + [limit]) { row in
                    let data = row.text(5) ?? ""
                    out.append(DeadLetter(kind: .timer, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                          what: "timer \(row.text(2) ?? "") due \(Timestamp.format(Date(timeIntervalSince1970: row.real(4))))",
                                          reason: row.text(6) ?? "",
                                          detail: .object(["journey": .string(row.text(3) ?? ""), "stored": .string(data)])))
                }
            }
            return Self.newestFirst(out, limit: query.limit)
        }
    }

    /// A review or failed-action item from its audit row (`id, flow, key, at, kind, data`).
    static func auditItem(_ row: Row) -> DeadLetter {
        let fields = decode(row.text(5))
        let review = row.text(4) == "review"
        let what = review ? "\(row.text(1) ?? "") \(fields["event"].displayString) \(fields["event_id"].displayString)"
                          : "\(row.text(1) ?? "")/\(row.text(2) ?? "") \(fields["path"].displayString)"
        return DeadLetter(kind: review ? .review : .failed, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(3)),
                          what: what, reason: fields["reason"].displayString, detail: fields, flow: row.text(1))
    }

    public func waitingReviews(application: String) throws(StoreError) -> [DeadLetter] {
        try locked { () throws(StoreError) -> [DeadLetter] in
            var out: [DeadLetter] = []
            // `json_extract(data, '$.application')` with `kind = 'review'`: the partial index on
            // that expression (migration 12) finds them without reading every review ever made.
            try db.query("""
                SELECT id, flow, key, at, kind, data FROM audit WHERE kind = 'review' AND json_extract(data, '$.application') = ?
                AND \(Self.auditItemWaits) ORDER BY id LIMIT 100
                """, [.text(application)]) { row in out.append(Self.auditItem(row)) }
            return out
        }
    }

    public func deadLetterCount() throws(StoreError) -> Int {
        try locked { () throws(StoreError) -> Int in
            var count = 0
            try db.query("""
                SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 'review')
                     + (SELECT COUNT(*) FROM inbox WHERE status = 'failed')
                     + (SELECT COUNT(*) FROM audit WHERE kind IN ('review', 'action_failed') AND \(Self.auditItemWaits))
                     + (SELECT COUNT(*) FROM outbox WHERE status = 'dead')
                     + (SELECT COUNT(*) FROM timers_broken WHERE status = 'waiting')
                """) { row in count = Int(row.integer(0)) }
            return count
        }
    }

    /// An audit row (a review or a failed action) that still waits: not resolved, and not a
    /// failure whose action made it into the outbox after all.
    static let auditItemWaits = """
        (CASE kind WHEN 'review' THEN 'review:' ELSE 'failed:' END || id) NOT IN (SELECT item FROM resolved)
        AND NOT (kind = 'action_failed' AND EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = json_extract(audit.data, '$.idempotency_key')))
        """

    /// ` AND column = ?` / ` AND column > ?` for a query's row-number filters, with their values.
    static func numberFilter(_ query: DeadLetterQuery, column: String) -> (String, [SQLValue]) {
        var sql = ""
        var bindings: [SQLValue] = []
        if let number = query.number {
            sql += " AND \(column) = ?"
            bindings.append(.integer(number))
        }
        if let after = query.after {
            sql += " AND \(column) > ?"
            bindings.append(.integer(after))
        }
        return (sql, bindings)
    }

    /// The items of every kind together, newest first, cut to `limit`.
    static func newestFirst(_ items: [DeadLetter], limit: Int) -> [DeadLetter] {
        Array(items.sorted { $0.at != $1.at ? $0.at > $1.at : $0.number > $1.number }.prefix(limit))
    }

    public func requeueDeadLetter(_ kind: DeadLetter.Kind, _ number: Int64, at: Date) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) -> Bool in
            try db.transaction { () throws(StoreError) -> Bool in
                switch kind {
                case .delivery:
                    try db.query("UPDATE deliveries SET status = 'pending', detail = 'replayed' WHERE seq = ? AND status = 'review'", [.integer(number)])
                case .event:
                    try db.query("UPDATE inbox SET status = 'pending', reason = NULL WHERE seq = ? AND status = 'failed'", [.integer(number)])
                case .action:
                    // A dead outbox row goes back to the dispatcher with a fresh set of attempts.
                    // Its error chain starts again too: kept, the next failures read "attempt 1"
                    // after the old ones (the dead letter's timeline entry keeps why it died).
                    try db.query("UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?, last_error = NULL WHERE seq = ? AND status = 'dead'",
                                 [Self.time(at), .integer(number)])
                    guard db.changes == 1 else { return false }
                    // It stopped counting for `max_messages` when it died; going out now, it counts again from now.
                    var replayed: (journey: String, action: PlannedAction)?
                    try db.query("SELECT journey, data FROM outbox WHERE seq = ?", [.integer(number)]) { row in
                        if let action = PlannedAction(encoded: Self.decode(row.text(1))) { replayed = (row.text(0) ?? "", action) }
                    }
                    if let (journey, action) = replayed, let candidate = action.candidate {
                        try db.query("INSERT INTO messages (candidate, at, journey, action) VALUES (?, ?, ?, ?)",
                                     [.text(candidate), Self.time(at), .text(journey), .text(action.idempotencyKey)])
                    }
                    return true
                case .review, .failed:
                    return try resolveLocked(kind, number, at: at, how: "replayed")
                case .timer:
                    // Put back, it would only be parked again: there is nothing to replay.
                    return false
                }
                return db.changes == 1
            }
        }
    }

    public func dismissDeadLetter(_ kind: DeadLetter.Kind, _ number: Int64, at: Date) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) -> Bool in
            switch kind {
            case .delivery:
                try db.query("UPDATE deliveries SET status = 'dismissed' WHERE seq = ? AND status = 'review'", [.integer(number)])
            case .event:
                try db.query("UPDATE inbox SET status = 'dismissed' WHERE seq = ? AND status = 'failed'", [.integer(number)])
            case .action:
                try db.query("UPDATE outbox SET status = 'dismissed' WHERE seq = ? AND status = 'dead'", [.integer(number)])
            case .timer:
                try db.query("UPDATE timers_broken SET status = 'dismissed' WHERE seq = ? AND status = 'waiting'", [.integer(number)])
            case .review, .failed:
                return try resolveLocked(kind, number, at: at, how: "dismissed")
            }
            return db.changes == 1
        }
    }

    /// Marks an audit-backed item (review, failed) resolved; the caller holds the lock.
    /// Marks a waiting item resolved (`how`); false when it is not waiting. The caller holds the
    /// store's lock and runs this inside its transaction.
    func resolveLocked(_ kind: DeadLetter.Kind, _ number: Int64, at: Date, how: String) throws(StoreError) -> Bool {
        var exists = false
        try db.query("SELECT 1 FROM audit WHERE id = ? AND kind = ?", [.integer(number), .text(kind == .review ? "review" : "action_failed")]) { _ in exists = true }
        guard exists else { return false }
        try db.query("INSERT OR IGNORE INTO resolved (item, at, how) VALUES (?, ?, ?)", [.text("\(kind.rawValue):\(number)"), Self.time(at), .text(how)])
        return db.changes == 1
    }

    public func inboxEvent(id: String) throws(StoreError) -> CanonicalEvent? {
        try locked { () throws(StoreError) -> CanonicalEvent? in
            var out: CanonicalEvent?
            try db.query("SELECT data FROM inbox WHERE event_id = ?", [.text(id)]) { row in out = CanonicalEvent(encoded: Self.decode(row.text(0))) }
            return out
        }
    }
}
