import Foundation
import HirewireEngine
import HirewireLanguage

extension SQLiteStore {
    /// `CAST(json_extract(data, path) AS TEXT)`: ids stored as JSON numbers compare as the text
    /// the command line gives.
    private static func textAt(_ path: String, in column: String = "data") -> String {
        "CAST(json_extract(\(column), '\(path)') AS TEXT)"
    }

    /// The journey id an idempotency key begins with (`jrn_…:seq:path`): how the actions of a
    /// start refused for missing data (`on_invalid`), stored without a journey, are found.
    private static let keyJourney = "substr(idempotency_key, 1, instr(idempotency_key, ':') - 1)"

    public func erasureScope(candidate: String) throws(StoreError) -> ErasureScope {
        try locked { () throws(StoreError) -> ErasureScope in
            var scope = ErasureScope(candidate: candidate)
            var events: [String] = []
            let who: [SQLValue] = [.text(candidate)]
            try db.query("SELECT data FROM journeys WHERE \(Self.textAt("$.context.candidate.id")) = ?", who) { row in
                scope.noteJourney(Self.decode(row.text(0)))
            }
            try db.query("SELECT event_id, data FROM inbox WHERE \(Self.textAt("$.data.candidate.id")) = ?", who) { row in
                let event = Self.decode(row.text(1))
                ErasureScope.note(.string(row.text(0) ?? ""), into: &events)
                ErasureScope.note(event["data"]["application"]["id"], into: &scope.applications)
                ErasureScope.note(event["data"]["candidate"]["email"], into: &scope.emails)
            }
            try db.query("SELECT id, data FROM applications WHERE \(Self.textAt("$.candidate.id")) = ?", who) { row in
                ErasureScope.note(.string(row.text(0) ?? ""), into: &scope.applications)
                ErasureScope.note(Self.decode(row.text(1))["candidate"]["email"], into: &scope.emails)
            }
            // Raw deliveries naming the candidate in their body: one no mapping has named yet
            // (pending, or in review before its application was known) is found only so.
            try db.query("SELECT seq, application, CAST(body AS TEXT) FROM deliveries WHERE instr(CAST(body AS TEXT), ?) > 0", who) { row in
                guard let body = try? Value.parseJSON(Data((row.text(2) ?? "").utf8)) else { return }
                let named = ErasureScope.names(body, candidate: candidate)
                guard named.found else { return }
                scope.deliveries.append(row.integer(0))
                if let application = row.text(1) { ErasureScope.note(.string(application), into: &scope.applications) }
                for email in named.emails { ErasureScope.note(.string(email), into: &scope.emails) }
            }
            // Journeys of those applications that never carried the candidate (a flow whose
            // events name only the application).
            if !scope.applications.isEmpty {
                try db.query("SELECT data FROM journeys WHERE \(Self.textAt("$.context.application.id")) IN (SELECT value FROM json_each(?))",
                             [Self.jsonList(scope.applications)]) { row in scope.noteJourney(Self.decode(row.text(0))) }
            }
            try noteRefusedStarts(&scope, events: events)
            return scope
        }
    }

    /// Adds the journeys that starts refused for missing data would have been (review items of
    /// the applications, or of the events): their `on_invalid` actions, timers and message
    /// counts carry that journey's id, though no journey row was ever written.
    private func noteRefusedStarts(_ scope: inout ErasureScope, events: [String]) throws(StoreError) {
        guard !scope.applications.isEmpty || !events.isEmpty else { return }
        try db.query("""
            SELECT DISTINCT journey FROM audit WHERE kind = 'review'
              AND (json_extract(data, '$.application') IN (SELECT value FROM json_each(?1))
                   OR json_extract(data, '$.event_id') IN (SELECT value FROM json_each(?2)))
            """, [Self.jsonList(scope.applications), Self.jsonList(events)]) { row in
            ErasureScope.note(.string(row.text(0) ?? ""), into: &scope.journeys)
        }
    }

    public func expiredScope(endedBefore cutoff: Date, limit: Int) throws(StoreError) -> ErasureScope {
        try expiredScopes(endedBefore: cutoff, batchSize: limit, batches: 1).first ?? ErasureScope(before: cutoff)
    }

    public func expiredScopes(endedBefore cutoff: Date, batchSize: Int, batches: Int) throws(StoreError) -> [ErasureScope] {
        try locked { () throws(StoreError) -> [ErasureScope] in
            let before = Self.time(cutoff)
            let size = max(1, batchSize)
            let limit = SQLValue.integer(Int64(size * max(1, batches)))
            // An application is old only when everything about it is: no live journey, none
            // that ended since the cutoff, and no event, delivery or profile update since. Found
            // once for all the batches: what arrives meanwhile is newer than the cutoff, and the
            // scopes' `before` keeps erasure off it.
            var young: Set<String> = []
            for sql in ["SELECT \(Self.textAt("$.context.application.id")) FROM journeys WHERE active = 1 OR ended_at >= ?1",
                        "SELECT \(Self.textAt("$.data.application.id")) FROM inbox WHERE received_at >= ?1",
                        "SELECT application FROM deliveries WHERE received_at >= ?1 AND application IS NOT NULL",
                        "SELECT id FROM applications WHERE updated_at >= ?1",
                        "SELECT json_extract(data, '$.application') FROM audit WHERE kind = 'review' AND at >= ?1"] {
                try db.query(sql, [before]) { row in if let id = row.text(0) { young.insert(id) } }
            }
            var journeys: [(id: String, application: String?)] = []
            try db.query("SELECT id, \(Self.textAt("$.context.application.id")) FROM journeys WHERE active = 0 AND key != '' AND ended_at < ? ORDER BY ended_at LIMIT ?",
                         [before, limit]) { row in journeys.append((row.text(0) ?? "", row.text(1))) }
            // Applications no journey ever took (an event no flow starts on): their profiles.
            // All of them read, then cut: a limit in the query could fill up with profiles kept
            // young by other data, and never reach the ones past it.
            var profiles: [String] = []
            try db.query("SELECT id FROM applications WHERE updated_at < ? ORDER BY updated_at", [before]) { row in
                if let id = row.text(0), !young.contains(id) { profiles.append(id) }
            }
            profiles = Array(profiles.prefix(size * max(1, batches)))
            var scopes: [ErasureScope] = []
            var start = 0
            while start < max(journeys.count, profiles.count) {
                var scope = ErasureScope(before: cutoff)
                for journey in journeys.dropFirst(start).prefix(size) {
                    scope.journeys.append(journey.id)
                    if let application = journey.application, !young.contains(application) { ErasureScope.note(.string(application), into: &scope.applications) }
                }
                for id in profiles.dropFirst(start).prefix(size) { ErasureScope.note(.string(id), into: &scope.applications) }
                try noteRefusedStarts(&scope, events: [])
                scopes.append(scope)
                start += size
            }
            return scopes
        }
    }

    public func erase(_ scope: ErasureScope, at: Date) throws(StoreError) -> ErasureCounts {
        try locked { () throws(StoreError) -> ErasureCounts in
            try db.transaction { () throws(StoreError) -> ErasureCounts in
                let journeys = Self.jsonList(scope.journeys)
                let applications = Self.jsonList(scope.applications)
                let candidate: SQLValue = scope.candidate.map(SQLValue.text) ?? .null
                let before = Self.time(scope.before ?? .distantFuture)
                var counts = ErasureCounts()
                counts.journeys = try eraseJourneys(journeys)
                counts.events = try eraseEvents(candidate: candidate, applications: applications, before: before)
                counts.deliveries = try eraseDeliveries(applications: applications, emails: scope.emails, found: scope.deliveries, before: before)
                try db.query("DELETE FROM applications WHERE id IN (SELECT value FROM json_each(?)) AND updated_at < ?", [applications, before])
                counts.applications = db.changes
                counts.actions = try eraseActions(journeys: journeys, candidate: candidate)
                // Deferred actions naming the candidate go too, journey or not: nothing more may go out.
                try db.query("DELETE FROM timers WHERE journey IN (SELECT value FROM json_each(?1)) OR \(Self.textAt("$.action.candidate")) = ?2",
                             [journeys, candidate])
                counts.timers = db.changes
                try db.query("DELETE FROM timers_broken WHERE journey IN (SELECT value FROM json_each(?))", [journeys])
                counts.timers += db.changes
                try db.query("""
                    UPDATE tasks SET title = 'erased', notes = NULL, done_at = COALESCE(done_at, ?2)
                    WHERE (journey IN (SELECT value FROM json_each(?1)) OR \(Self.keyJourney) IN (SELECT value FROM json_each(?1)))
                      AND (title != 'erased' OR notes IS NOT NULL)
                    """, [journeys, Self.time(at)])
                counts.tasks = db.changes
                try db.query("DELETE FROM messages WHERE candidate = ?1 OR journey IN (SELECT value FROM json_each(?2))", [candidate, journeys])
                counts.messages = db.changes
                counts.auditRows = try eraseAudit(journeys: journeys, applications: applications, candidate: candidate, before: before, at: at)
                return counts
            }
        }
    }

    /// Ended journeys only: a live one is ended by the engine first (its timers cancelled, its
    /// end recorded), and keeps its data until then. The step number goes up: a step computed
    /// from the row as it was (a timer firing on the ended journey in a running server) is
    /// refused as stale and computed again from this one, instead of writing the old context back.
    private func eraseJourneys(_ journeys: SQLValue) throws(StoreError) -> Int {
        try db.query("""
            UPDATE journeys SET key = '', seq = seq + 1,
              data = json_set(json_remove(data, '$.held', '$.instead_at'), '$.context', json('{}'),
              '$.vars', json('{}'), '$.merged_at', json('{}'), '$.key', '', '$.seq', seq + 1)
            WHERE id IN (SELECT value FROM json_each(?)) AND active = 0 AND (key != '' OR json_extract(data, '$.context') != '{}')
            """, [journeys])
        return db.changes
    }

    /// Events naming the candidate or the applications keep their id (a retried webhook is
    /// still a duplicate), type and times, and of their data only what `report` counts offers
    /// by: the offer, under an id made up for this erasure (the same for all of one offer's
    /// events), and the recruiter. One not processed yet (or parked) never will be.
    private func eraseEvents(candidate: SQLValue, applications: SQLValue, before: SQLValue) throws(StoreError) -> Int {
        var rows: [(seq: Int64, data: Value)] = []
        try db.query("""
            SELECT seq, data FROM inbox
            WHERE (\(Self.textAt("$.data.candidate.id")) = ?1 OR \(Self.textAt("$.data.application.id")) IN (SELECT value FROM json_each(?2)))
              AND received_at < ?3
            """, [candidate, applications, before]) { row in rows.append((row.integer(0), Self.decode(row.text(1)))) }
        var offers: [String: String] = [:]
        for (seq, event) in rows {
            var kept: [String: Value] = ["erased": true]
            if let offer = event["data"]["offer"]["id"].stringValue ?? event["data"]["application"]["id"].stringValue {
                let alias = offers[offer] ?? "erased-" + UUID().uuidString.lowercased()
                offers[offer] = alias
                kept["offer"] = ["id": .string(alias)]
            }
            if case .object(let recruiter) = event["data"]["recruiter"] {
                kept["recruiter"] = .object(recruiter.filter { $0.key == "email" || $0.key == "name" })
            }
            var scrubbed = event.objectValue ?? [:]
            scrubbed["data"] = .object(kept)
            try db.query("""
                UPDATE inbox SET data = ?, journeys = NULL, status = CASE WHEN status IN ('pending', 'failed') THEN 'erased' ELSE status END
                WHERE seq = ?
                """, [Self.json(.object(scrubbed)), .integer(seq)])
        }
        return rows.count
    }

    /// Raw requests: by the application their mapping named, or — stored before deliveries named
    /// it, or not mapped yet — by the candidate's address standing whole in the body. One not
    /// mapped yet, or waiting in review, is never mapped now.
    private func eraseDeliveries(applications: SQLValue, emails: [String], found: [Int64], before: SQLValue) throws(StoreError) -> Int {
        var rows = found
        try db.query("SELECT seq FROM deliveries WHERE application IN (SELECT value FROM json_each(?)) AND CAST(body AS TEXT) != '{}' AND received_at < ?",
                     [applications, before]) { row in
            rows.append(row.integer(0))
        }
        if !emails.isEmpty {
            try db.query("SELECT seq, CAST(body AS TEXT) FROM deliveries WHERE application IS NULL AND CAST(body AS TEXT) != '{}' AND received_at < ?", [before]) { row in
                let body = (row.text(1) ?? "").lowercased()
                if emails.contains(where: { EmailAddress.stands(in: body, $0.lowercased()) }) { rows.append(row.integer(0)) }
            }
        }
        try db.query("""
            UPDATE deliveries SET body = CAST('{}' AS BLOB), headers = '{}', application = NULL,
              status = CASE WHEN status IN ('pending', 'review') THEN 'erased' ELSE status END
            WHERE seq IN (SELECT value FROM json_each(?)) AND CAST(body AS TEXT) != '{}'
            """, [Self.json(.array(rows.map { .number(Double($0)) }))])
        return db.changes
    }

    /// A journey's actions, and those naming the candidate outside any journey (the `on_invalid`
    /// actions of a start refused for missing data): their arguments, results and error texts
    /// go. One not sent yet, or being sent, is cancelled (an attempt in flight finds it so and
    /// is not tried again); a dead one no longer waits in `dead-letters`.
    private func eraseActions(journeys: SQLValue, candidate: SQLValue) throws(StoreError) -> Int {
        try db.query("""
            UPDATE outbox SET data = json_set(json_remove(data, '$.candidate'), '$.args', json('{}')), result = NULL,
              status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled' WHEN status = 'dead' THEN 'erased' ELSE status END,
              last_error = CASE WHEN last_error IS NULL THEN NULL ELSE 'erased' END
            WHERE (journey IN (SELECT value FROM json_each(?1)) OR (journey = '' AND \(Self.keyJourney) IN (SELECT value FROM json_each(?1)))
                   OR \(Self.textAt("$.candidate")) = ?2)
              AND (json_extract(data, '$.args') != '{}' OR json_extract(data, '$.candidate') IS NOT NULL OR result IS NOT NULL
                   OR (last_error IS NOT NULL AND last_error != 'erased') OR status IN ('pending', 'sending', 'dead'))
            """, [journeys, candidate])
        return db.changes
    }

    /// Rewrites the audit rows of the journeys, and those naming the applications or the
    /// candidate (entries no journey took, review items), keeping only the fields the engine
    /// wrote. Review items and failed actions among them are resolved as erased: there is
    /// nothing left to replay.
    private func eraseAudit(journeys: SQLValue, applications: SQLValue, candidate: SQLValue, before: SQLValue, at: Date) throws(StoreError) -> Int {
        var rows: [(id: Int64, kind: String, data: String, key: String)] = []
        try db.query("""
            SELECT id, kind, data, key FROM audit WHERE (journey IN (SELECT value FROM json_each(?1))
              OR key IN (SELECT value FROM json_each(?2)) OR key = ?3
              OR (kind = 'review' AND json_extract(data, '$.application') IN (SELECT value FROM json_each(?2)))) AND at < ?4
            """, [journeys, applications, candidate, before]) { row in
            rows.append((row.integer(0), row.text(1) ?? "", row.text(2) ?? "", row.text(3) ?? ""))
        }
        var changed = 0
        for row in rows {
            let scrubbed = ErasedAudit.scrubRow(Self.decode(row.data), kind: row.kind).jsonString()
            guard scrubbed != row.data || !row.key.isEmpty else { continue }
            try db.query("UPDATE audit SET data = ?, key = '' WHERE id = ?", [.text(scrubbed), .integer(row.id)])
            changed += 1
            if let item = ["review": DeadLetter.Kind.review, "action_failed": .failed][row.kind] {
                try db.query("INSERT OR IGNORE INTO resolved (item, at, how) VALUES (?, ?, 'erased')",
                             [.text("\(item.rawValue):\(row.id)"), Self.time(at)])
            }
        }
        return changed
    }

    public func purgeEvents(before: Date) throws(StoreError) -> Int {
        try locked { () throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                let cutoff = [Self.time(before)]
                // An event a waiting review item needs (to replay it, or to heal it when its
                // application's data arrives) is work still owed.
                try db.query("""
                    DELETE FROM inbox WHERE status NOT IN ('pending', 'failed') AND received_at < ?
                      AND event_id NOT IN (SELECT json_extract(data, '$.event_id') FROM audit
                                           WHERE kind = 'review' AND json_extract(data, '$.event_id') IS NOT NULL AND \(Self.auditItemWaits))
                    """, cutoff)
                var removed = db.changes
                try db.query("DELETE FROM deliveries WHERE status NOT IN ('pending', 'review') AND received_at < ?", cutoff)
                removed += db.changes
                try db.query("DELETE FROM rejections WHERE at < ?", cutoff)
                return removed + db.changes
            }
        }
    }
}
