import Foundation
import HirewireEngine
import HirewireLanguage

extension SQLiteStore {
    /// `CAST(json_extract(data, path) AS TEXT)`: ids stored as JSON numbers compare as the text
    /// the command line gives.
    private static func textAt(_ path: String, in column: String = "data") -> String {
        "CAST(json_extract(\(column), '\(path)') AS TEXT)"
    }

    public func erasureScope(candidate: String) throws(StoreError) -> ErasureScope {
        try locked { () throws(StoreError) -> ErasureScope in
            var journeys: [String] = []
            var applications: [String] = []
            var emails: [String] = []
            func note(_ value: Value, into list: inout [String]) {
                if let text = value.stringValue ?? (value.isNull ? nil : value.displayString), !text.isEmpty, !list.contains(text) { list.append(text) }
            }
            func noteJourney(_ data: Value) {
                note(data["id"], into: &journeys)
                note(data["context"]["application"]["id"], into: &applications)
                note(data["context"]["candidate"]["email"], into: &emails)
            }
            let who: [SQLValue] = [.text(candidate)]
            try db.query("SELECT data FROM journeys WHERE \(Self.textAt("$.context.candidate.id")) = ?", who) { row in
                noteJourney(Self.decode(row.text(0)))
            }
            try db.query("SELECT data FROM inbox WHERE \(Self.textAt("$.data.candidate.id")) = ?", who) { row in
                let event = Self.decode(row.text(0))
                note(event["data"]["application"]["id"], into: &applications)
                note(event["data"]["candidate"]["email"], into: &emails)
            }
            try db.query("SELECT id, data FROM applications WHERE \(Self.textAt("$.candidate.id")) = ?", who) { row in
                note(.string(row.text(0) ?? ""), into: &applications)
                note(Self.decode(row.text(1))["candidate"]["email"], into: &emails)
            }
            // Journeys of those applications that never carried the candidate (a flow whose
            // events name only the application).
            if !applications.isEmpty {
                try db.query("SELECT data FROM journeys WHERE \(Self.textAt("$.context.application.id")) IN (SELECT value FROM json_each(?))",
                             [Self.jsonList(applications)]) { row in noteJourney(Self.decode(row.text(0))) }
            }
            return ErasureScope(candidate: candidate, journeys: journeys, applications: applications, emails: emails)
        }
    }

    public func expiredScope(endedBefore: Date, limit: Int) throws(StoreError) -> ErasureScope {
        try locked { () throws(StoreError) -> ErasureScope in
            var live: Set<String> = []
            try db.query("SELECT DISTINCT \(Self.textAt("$.context.application.id")) FROM journeys WHERE active = 1") { row in
                if let id = row.text(0) { live.insert(id) }
            }
            var scope = ErasureScope()
            try db.query("SELECT id, \(Self.textAt("$.context.application.id")) FROM journeys WHERE active = 0 AND key != '' AND updated_at < ? ORDER BY updated_at LIMIT ?",
                         [Self.time(endedBefore), .integer(Int64(max(1, limit)))]) { row in
                scope.journeys.append(row.text(0) ?? "")
                if let application = row.text(1), !live.contains(application), !scope.applications.contains(application) {
                    scope.applications.append(application)
                }
            }
            return scope
        }
    }

    public func erase(_ scope: ErasureScope, at: Date) throws(StoreError) -> ErasureCounts {
        try locked { () throws(StoreError) -> ErasureCounts in
            try db.transaction { () throws(StoreError) -> ErasureCounts in
                var counts = ErasureCounts()
                let journeys = Self.jsonList(scope.journeys)
                let applications = Self.jsonList(scope.applications)
                let candidate: SQLValue = scope.candidate.map(SQLValue.text) ?? .null
                // Ended journeys only: a live one is ended by the engine first (its timers
                // cancelled, its end recorded), and keeps its data until then. The step number
                // goes up: a step computed from the row as it was (a timer firing on the ended
                // journey in a running server) is refused as stale and computed again from this
                // one, instead of writing the old context back.
                try db.query("""
                    UPDATE journeys SET key = '', seq = seq + 1,
                      data = json_set(json_remove(data, '$.held', '$.instead_at'), '$.context', json('{}'),
                      '$.vars', json('{}'), '$.merged_at', json('{}'), '$.key', '', '$.seq', seq + 1)
                    WHERE id IN (SELECT value FROM json_each(?)) AND active = 0 AND (key != '' OR json_extract(data, '$.context') != '{}')
                    """, [journeys])
                counts.journeys = db.changes
                try db.query("""
                    UPDATE inbox SET data = json_set(data, '$.data', json('{}')), journeys = NULL
                    WHERE (\(Self.textAt("$.data.candidate.id")) = ?1 OR \(Self.textAt("$.data.application.id")) IN (SELECT value FROM json_each(?2)))
                      AND json_extract(data, '$.data') != '{}'
                    """, [candidate, applications])
                counts.events = db.changes
                // Raw requests: by the application their mapping named, or (stored before
                // deliveries named it, or not mapped yet) by the candidate's address in the body.
                // One not yet mapped, or waiting in review, will not be mapped now.
                try db.query("""
                    UPDATE deliveries SET body = CAST('{}' AS BLOB), headers = '{}', application = NULL,
                      status = CASE WHEN status IN ('pending', 'review') THEN 'erased' ELSE status END
                    WHERE (application IN (SELECT value FROM json_each(?1))
                           OR EXISTS (SELECT 1 FROM json_each(?2) WHERE instr(CAST(deliveries.body AS TEXT), value) > 0))
                      AND CAST(body AS TEXT) != '{}'
                    """, [applications, Self.jsonList(scope.emails)])
                counts.deliveries = db.changes
                try db.query("DELETE FROM applications WHERE id IN (SELECT value FROM json_each(?))", [applications])
                counts.applications = db.changes
                // A journey's actions, and those naming the candidate outside any journey (the
                // `on_invalid` actions of an event refused for missing data); one not sent yet
                // never will be.
                try db.query("""
                    UPDATE outbox SET data = json_set(json_remove(data, '$.candidate'), '$.args', json('{}')), result = NULL,
                      status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
                      last_error = CASE WHEN last_error IS NULL THEN NULL ELSE 'erased' END
                    WHERE (journey IN (SELECT value FROM json_each(?1)) OR \(Self.textAt("$.candidate")) = ?2)
                      AND json_extract(data, '$.args') != '{}'
                    """, [journeys, candidate])
                counts.actions = db.changes
                // Deferred actions naming the candidate go too, journey or not: nothing more may go out.
                try db.query("DELETE FROM timers WHERE journey IN (SELECT value FROM json_each(?1)) OR \(Self.textAt("$.action.candidate")) = ?2",
                             [journeys, candidate])
                counts.timers = db.changes
                try db.query("DELETE FROM timers_broken WHERE journey IN (SELECT value FROM json_each(?))", [journeys])
                counts.timers += db.changes
                try db.query("UPDATE tasks SET title = 'erased', notes = NULL WHERE journey IN (SELECT value FROM json_each(?)) AND (title != 'erased' OR notes IS NOT NULL)",
                             [journeys])
                counts.tasks = db.changes
                try db.query("DELETE FROM messages WHERE candidate = ?1 OR journey IN (SELECT value FROM json_each(?2))", [candidate, journeys])
                counts.messages = db.changes
                counts.auditRows = try eraseAudit(journeys: journeys, applications: applications, candidate: candidate, at: at)
                return counts
            }
        }
    }

    /// Rewrites the audit rows of the journeys, and those naming the applications (entries no
    /// journey took, review items), keeping only the fields the engine wrote. Review items of
    /// those applications are resolved as erased: there is nothing left to replay.
    private func eraseAudit(journeys: SQLValue, applications: SQLValue, candidate: SQLValue, at: Date) throws(StoreError) -> Int {
        var rows: [(id: Int64, kind: String, data: String, key: String)] = []
        try db.query("""
            SELECT id, kind, data, key FROM audit WHERE journey IN (SELECT value FROM json_each(?1))
              OR key IN (SELECT value FROM json_each(?2)) OR key = ?3
              OR (kind = 'review' AND json_extract(data, '$.application') IN (SELECT value FROM json_each(?2)))
            """, [journeys, applications, candidate]) { row in
            rows.append((row.integer(0), row.text(1) ?? "", row.text(2) ?? "", row.text(3) ?? ""))
        }
        var changed = 0
        for row in rows {
            let scrubbed = ErasedAudit.scrubRow(Self.decode(row.data), kind: row.kind).jsonString()
            guard scrubbed != row.data || !row.key.isEmpty else { continue }
            try db.query("UPDATE audit SET data = ?, key = '' WHERE id = ?", [.text(scrubbed), .integer(row.id)])
            changed += 1
            if row.kind == "review" {
                try db.query("INSERT OR IGNORE INTO resolved (item, at, how) VALUES (?, ?, 'erased')",
                             [.text("\(DeadLetter.Kind.review.rawValue):\(row.id)"), Self.time(at)])
            }
        }
        return changed
    }

    public func purgeEvents(before: Date) throws(StoreError) -> Int {
        try locked { () throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                let cutoff = [Self.time(before)]
                try db.query("DELETE FROM inbox WHERE status NOT IN ('pending', 'failed') AND received_at < ?", cutoff)
                var removed = db.changes
                try db.query("DELETE FROM deliveries WHERE status NOT IN ('pending', 'review') AND received_at < ?", cutoff)
                removed += db.changes
                try db.query("DELETE FROM rejections WHERE at < ?", cutoff)
                return removed + db.changes
            }
        }
    }
}
