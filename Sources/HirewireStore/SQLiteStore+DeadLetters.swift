import Foundation
import HirewireEngine
import HirewireLanguage

extension SQLiteStore {
    public func deadLetters(limit: Int) throws(StoreError) -> [DeadLetter] {
        try locked { () throws(StoreError) -> [DeadLetter] in
            var out: [DeadLetter] = []
            try db.query("SELECT seq, source, event_id, received_at, body, detail FROM deliveries WHERE status = 'review' ORDER BY seq DESC LIMIT ?",
                         [.integer(Int64(limit))]) { row in
                let body = row.text(4) ?? ""
                out.append(DeadLetter(kind: .delivery, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(3)),
                                      what: "\(row.text(1) ?? "") \(row.text(2) ?? "")", reason: row.text(5) ?? "",
                                      detail: (try? Value.parseJSON(Data(body.utf8))) ?? .string(body)))
            }
            try db.query("SELECT seq, received_at, data, reason FROM inbox WHERE status = 'failed' ORDER BY seq DESC LIMIT ?", [.integer(Int64(limit))]) { row in
                let data = Self.decode(row.text(2))
                let event = CanonicalEvent(encoded: data)
                out.append(DeadLetter(kind: .event, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                      what: "\(event?.type ?? "?") \(event?.id ?? "?")", reason: row.text(3) ?? "", detail: data))
            }
            let sql = """
                SELECT id, flow, key, at, kind, data FROM audit WHERE kind IN ('review', 'action_failed')
                AND (CASE kind WHEN 'review' THEN 'review:' ELSE 'failed:' END || id) NOT IN (SELECT item FROM resolved)
                AND NOT (kind = 'action_failed' AND EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = json_extract(audit.data, '$.idempotency_key')))
                ORDER BY id DESC LIMIT ?
                """
            try db.query(sql, [.integer(Int64(limit))]) { row in
                let fields = Self.decode(row.text(5))
                let review = row.text(4) == "review"
                let what = review ? "\(row.text(1) ?? "") \(fields["event"].displayString) \(fields["event_id"].displayString)"
                                  : "\(row.text(1) ?? "")/\(row.text(2) ?? "") \(fields["path"].displayString)"
                out.append(DeadLetter(kind: review ? .review : .failed, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(3)),
                                      what: what, reason: fields["reason"].displayString, detail: fields, flow: row.text(1)))
            }
            try db.query("SELECT seq, COALESCE(done_at, created_at), connector, data, last_error, journey FROM outbox WHERE status = 'dead' ORDER BY seq DESC LIMIT ?",
                         [.integer(Int64(limit))]) { row in
                let data = Self.decode(row.text(3))
                out.append(DeadLetter(kind: .action, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                      what: "\(row.text(2) ?? "") \(row.text(5) ?? "") \(data["path"].displayString)", reason: row.text(4) ?? "", detail: data))
            }
            try db.query("SELECT seq, parked_at, id, journey, due, data, reason FROM timers_broken WHERE status = 'waiting' ORDER BY seq DESC LIMIT ?",
                         [.integer(Int64(limit))]) { row in
                let data = row.text(5) ?? ""
                out.append(DeadLetter(kind: .timer, number: row.integer(0), at: Date(timeIntervalSince1970: row.real(1)),
                                      what: "timer \(row.text(2) ?? "") due \(Timestamp.format(Date(timeIntervalSince1970: row.real(4))))",
                                      reason: row.text(6) ?? "",
                                      detail: .object(["journey": .string(row.text(3) ?? ""), "stored": .string(data)])))
            }
            return Array(out.sorted { $0.at > $1.at }.prefix(limit))
        }
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
