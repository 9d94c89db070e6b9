import Foundation
import HirewireEngine
import HirewireLanguage

extension SQLiteStore: OutboxStore {
    public func claimActions(now: Date, limit: Int) throws(StoreError) -> [OutboxItem] {
        try locked { () throws(StoreError) -> [OutboxItem] in
            try db.transaction { () throws(StoreError) -> [OutboxItem] in
                var out: [OutboxItem] = []
                let sql = """
                    SELECT o.seq, o.journey, o.data, o.attempts FROM outbox o
                    WHERE o.status = 'pending' AND o.next_at <= ?
                      AND NOT EXISTS (SELECT 1 FROM outbox p WHERE o.chain != '' AND p.chain = o.chain AND p.ord < o.ord
                                      AND p.status IN ('pending', 'sending'))
                    ORDER BY o.next_at, o.seq LIMIT ?
                    """
                try db.query(sql, [Self.time(now), .integer(Int64(limit))]) { row in
                    if let action = PlannedAction(encoded: Self.decode(row.text(2))) {
                        out.append(OutboxItem(sequence: row.integer(0), journey: row.text(1) ?? "", action: action, attempts: Int(row.integer(3))))
                    }
                }
                for item in out { try db.query("UPDATE outbox SET status = 'sending' WHERE seq = ?", [.integer(item.sequence)]) }
                return out
            }
        }
    }

    public func recordAttempts(_ attempts: [(item: OutboxItem, outcome: AttemptOutcome, latency: Double)], at: Date) throws(StoreError) {
        try locked { () throws(StoreError) in
            try db.transaction { () throws(StoreError) in
                for (item, outcome, latency) in attempts { try record(item, outcome, at: at, latency: latency) }
            }
        }
    }

    private func record(_ item: OutboxItem, _ outcome: AttemptOutcome, at: Date, latency: Double) throws(StoreError) {
        let attempts = Int64(item.attempts + 1)
        let label: String
        switch outcome {
        case .sent(let result):
            label = "sent"
            try db.query("UPDATE outbox SET status = 'sent', attempts = ?, result = ?, done_at = ? WHERE seq = ?",
                         [.integer(attempts), Self.json(result), Self.time(at), .integer(item.sequence)])
        case .retry(let retryAt, let error):
            label = "retry"
            // Only while it is still being sent: an action cancelled meanwhile stays cancelled.
            try db.query("UPDATE outbox SET status = 'pending', attempts = ?, next_at = ?, last_error = ? WHERE seq = ? AND status = 'sending'",
                         [.integer(attempts), Self.time(retryAt), .text(error), .integer(item.sequence)])
        case .dead(let error):
            label = "dead"
            try db.query("UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?, done_at = ? WHERE seq = ? AND status = 'sending'",
                         [.integer(attempts), .text(error), Self.time(at), .integer(item.sequence)])
            // A dead-lettered message was never delivered: it no longer counts for `max_messages`.
            if let candidate = item.action.candidate {
                // A message counted before migration 10 is known by when it was queued: the row's creation.
                try uncountMessage(candidate: candidate, action: item.action.idempotencyKey, journey: item.journey) { () throws(StoreError) -> Date? in
                    var created: Date?
                    try db.query(static: "SELECT created_at FROM outbox WHERE seq = ?", [.integer(item.sequence)]) { row in
                        created = Date(timeIntervalSince1970: row.real(0))
                    }
                    return created
                }
            }
        }
        try db.query("INSERT INTO deliveries_log (connector, at, outcome, latency, attempt) VALUES (?, ?, ?, ?, ?)",
                     [.text(item.action.connector), Self.time(at), .text(label), .real(latency), .integer(attempts)])
    }

    public func resetInFlightActions() throws(StoreError) -> Int {
        try locked { () throws(StoreError) -> Int in
            try db.query("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
            return db.changes
        }
    }

    public func lastError(_ sequence: Int64) throws(StoreError) -> String? {
        try locked { () throws(StoreError) -> String? in
            var out: String?
            try db.query("SELECT last_error FROM outbox WHERE seq = ?", [.integer(sequence)]) { row in out = row.text(0) }
            return out
        }
    }

    public func nextActionDue() throws(StoreError) -> Date? {
        try locked { () throws(StoreError) -> Date? in
            var out: Date?
            try db.query("SELECT MIN(next_at) FROM outbox WHERE status = 'pending'") { row in
                if !row.isNull(0) { out = Date(timeIntervalSince1970: row.real(0)) }
            }
            return out
        }
    }

    public func connectorStats(since: Date) throws(StoreError) -> [ConnectorStats] {
        try locked { () throws(StoreError) -> [ConnectorStats] in
            var stats: [String: ConnectorStats] = [:]
            try db.query("SELECT connector, outcome, COUNT(*), SUM(latency) FROM deliveries_log WHERE at >= ? GROUP BY connector, outcome",
                         [Self.time(since)]) { row in
                let name = row.text(0) ?? ""
                var s = stats[name] ?? ConnectorStats(connector: name)
                let count = Int(row.integer(2))
                switch row.text(1) {
                case "sent":
                    s.sent += count
                    s.sentLatency += row.real(3)
                case "retry": s.retried += count
                default: s.dead += count
                }
                stats[name] = s
            }
            // Actions whose arguments could not be rendered were dead-lettered by their step and
            // never reached a connector, so the attempt log lacks them: they count as dead too.
            try db.query("""
                SELECT json_extract(data, '$.connector'), COUNT(*) FROM audit
                WHERE kind = 'action_failed' AND at >= ? AND json_extract(data, '$.dead_letter') = 1 GROUP BY 1
                """, [Self.time(since)]) { row in
                guard let name = row.text(0) else { return }
                var s = stats[name] ?? ConnectorStats(connector: name)
                s.dead += Int(row.integer(1))
                stats[name] = s
            }
            return stats.values.sorted { $0.connector < $1.connector }
        }
    }

    public func journeyOutcomes(since: Date) throws(StoreError) -> [(flow: String, outcome: String, count: Int)] {
        try locked { () throws(StoreError) -> [(flow: String, outcome: String, count: Int)] in
            var out: [(flow: String, outcome: String, count: Int)] = []
            try db.query("""
                SELECT flow, CASE WHEN active = 1 THEN 'active' ELSE COALESCE(outcome, 'ended') END AS o, COUNT(*)
                FROM journeys WHERE started_at >= ? GROUP BY flow, o ORDER BY flow, o
                """, [Self.time(since)]) { row in
                out.append((row.text(0) ?? "", row.text(1) ?? "", Int(row.integer(2))))
            }
            return out
        }
    }

    public func saveTask(_ task: RecruiterTask, idempotencyKey: String) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) -> Bool in
            try db.query("""
                INSERT OR IGNORE INTO tasks (idempotency_key, journey, title, assignee, due, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(idempotencyKey), .text(task.journey), .text(task.title), task.assignee.map(SQLValue.text) ?? .null,
                      task.due.map(Self.time) ?? .null, task.notes.map(SQLValue.text) ?? .null, Self.time(task.createdAt)])
            return db.changes == 1
        }
    }

    public func tasks(openOnly: Bool) throws(StoreError) -> [RecruiterTask] {
        try locked { () throws(StoreError) -> [RecruiterTask] in
            var out: [RecruiterTask] = []
            let sql = "SELECT id, journey, title, assignee, due, notes, created_at, done_at FROM tasks"
                + (openOnly ? " WHERE done_at IS NULL" : "") + " ORDER BY id"
            try db.query(sql) { row in
                out.append(RecruiterTask(id: row.integer(0), journey: row.text(1) ?? "", title: row.text(2) ?? "", assignee: row.text(3),
                                         due: row.isNull(4) ? nil : Date(timeIntervalSince1970: row.real(4)), notes: row.text(5),
                                         createdAt: Date(timeIntervalSince1970: row.real(6)),
                                         doneAt: row.isNull(7) ? nil : Date(timeIntervalSince1970: row.real(7))))
            }
            return out
        }
    }

    public func outboxRows(journey: String?) throws(StoreError) -> [(item: OutboxItem, status: String, lastError: String?, result: Value?)] {
        try locked { () throws(StoreError) -> [(item: OutboxItem, status: String, lastError: String?, result: Value?)] in
            var out: [(item: OutboxItem, status: String, lastError: String?, result: Value?)] = []
            let sql = "SELECT seq, journey, data, attempts, status, last_error, result FROM outbox"
                + (journey == nil ? "" : " WHERE journey = ?") + " ORDER BY seq"
            try db.query(sql, journey.map { [.text($0)] } ?? []) { row in
                guard let action = PlannedAction(encoded: Self.decode(row.text(2))) else { return }
                out.append((OutboxItem(sequence: row.integer(0), journey: row.text(1) ?? "", action: action, attempts: Int(row.integer(3))),
                            row.text(4) ?? "", row.text(5), row.text(6).map { Self.decode($0) }))
            }
            return out
        }
    }
}
