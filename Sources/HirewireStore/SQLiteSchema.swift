/// Versioned schema migrations for the SQLite store. Each entry runs once, in order, inside a
/// transaction; `PRAGMA user_version` records how far a database has come.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: journeys, timers, outbox, audit, inbox, flow versions, candidate messages.
        """
        CREATE TABLE journeys (
            id TEXT PRIMARY KEY, flow TEXT NOT NULL, version TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
            active INTEGER NOT NULL, outcome TEXT, started_at REAL NOT NULL, updated_at REAL NOT NULL, data TEXT NOT NULL);
        CREATE UNIQUE INDEX journeys_one_active ON journeys (flow, key) WHERE active = 1;
        CREATE INDEX journeys_by_key ON journeys (flow, key);
        CREATE TABLE timers (id TEXT PRIMARY KEY, journey TEXT NOT NULL, due REAL NOT NULL, data TEXT NOT NULL);
        CREATE INDEX timers_due ON timers (due, id);
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE, journey TEXT NOT NULL,
            connector TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL, data TEXT NOT NULL);
        CREATE INDEX outbox_pending ON outbox (status, seq);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT, journey TEXT NOT NULL, flow TEXT NOT NULL, key TEXT NOT NULL,
            at REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX audit_journey ON audit (journey, id);
        CREATE TABLE inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, source TEXT NOT NULL,
            received_at REAL NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX inbox_pending ON inbox (status, seq);
        CREATE TABLE flow_versions (flow TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL, created_at REAL NOT NULL,
            PRIMARY KEY (flow, version));
        CREATE TABLE messages (candidate TEXT NOT NULL, at REAL NOT NULL, journey TEXT NOT NULL);
        CREATE INDEX messages_candidate ON messages (candidate, at);
        """,
        // 2: why an inbox event could not be processed.
        "ALTER TABLE inbox ADD COLUMN reason TEXT;",
        // 3: raw webhook deliveries (deduplicated per source) and refused requests (metadata only).
        """
        CREATE TABLE deliveries (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, event_id TEXT NOT NULL, received_at REAL NOT NULL,
            headers TEXT NOT NULL, body BLOB NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
            UNIQUE (source, event_id));
        CREATE INDEX deliveries_pending ON deliveries (status, seq);
        CREATE TABLE rejections (at REAL NOT NULL, source TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL, peer TEXT NOT NULL);
        """,
        // 4: what earlier events said about each application (for `enrich: application`), and
        // replays of review items.
        """
        CREATE TABLE applications (id TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE resolved (item TEXT PRIMARY KEY, at REAL NOT NULL, how TEXT NOT NULL);
        CREATE INDEX audit_kind ON audit (kind, id);
        CREATE INDEX inbox_event ON inbox (status) WHERE status = 'failed';
        CREATE INDEX deliveries_review ON deliveries (status) WHERE status = 'review';
        """,
        // 5: dispatch state of each outbox action (attempts, next try, last error, result), the
        // chain it belongs to (actions of one step go out in order), and recruiter tasks.
        """
        ALTER TABLE outbox ADD COLUMN chain TEXT NOT NULL DEFAULT '';
        ALTER TABLE outbox ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN next_at REAL NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN last_error TEXT;
        ALTER TABLE outbox ADD COLUMN result TEXT;
        ALTER TABLE outbox ADD COLUMN done_at REAL;
        CREATE INDEX outbox_due ON outbox (status, next_at) WHERE status IN ('pending', 'sending');
        CREATE INDEX outbox_chain ON outbox (chain, ord);
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE, journey TEXT NOT NULL,
            title TEXT NOT NULL, assignee TEXT, due REAL, notes TEXT, created_at REAL NOT NULL, done_at REAL);
        CREATE TABLE deliveries_log (
            connector TEXT NOT NULL, at REAL NOT NULL, outcome TEXT NOT NULL, latency REAL NOT NULL, attempt INTEGER NOT NULL);
        CREATE INDEX deliveries_log_at ON deliveries_log (at);
        """,
        // 6: which journeys each inbox event touched, and how often a delivery was repeated.
        """
        ALTER TABLE inbox ADD COLUMN journeys TEXT;
        ALTER TABLE deliveries ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
        """,
        // 7: partial indexes where only a few rows are ever looked up: the inbox is read for its
        // pending events, the audit log by kind only for dead letters. Every step used to add an
        // entry to each full index (and move one in the inbox's) for rows no query asks for.
        """
        DROP INDEX audit_kind;
        CREATE INDEX audit_dead ON audit (id) WHERE kind IN ('review', 'action_failed');
        DROP INDEX inbox_pending;
        CREATE INDEX inbox_waiting ON inbox (seq) WHERE status = 'pending';
        """,
        // 8: each journey row's step sequence number, so an engine holding that version of the
        // journey in memory need not read and decode its data again.
        """
        ALTER TABLE journeys ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
        UPDATE journeys SET seq = COALESCE(json_extract(data, '$.seq'), 0);
        """,
        // 9: outbox indexes that hold only the rows their queries look for. The planner used
        // `outbox_pending (status, seq)` for every query and never `outbox_due`, yet each action
        // paid an entry in both, and in `outbox_chain`, for as long as the outbox kept it. Now
        // pending actions are indexed by when they are due, sending and dead ones by number,
        // and chains only while they have work left (the query's own `IN` term, so the planner
        // can use it). Timers are keyed by id alone (WITHOUT ROWID): one b-tree less to write
        // for every timer armed, fired or cancelled.
        """
        DROP INDEX outbox_pending;
        DROP INDEX outbox_due;
        DROP INDEX outbox_chain;
        CREATE INDEX outbox_waiting ON outbox (next_at, seq) WHERE status = 'pending';
        CREATE INDEX outbox_sending ON outbox (seq) WHERE status = 'sending';
        CREATE INDEX outbox_dead ON outbox (seq) WHERE status = 'dead';
        CREATE INDEX outbox_chain_live ON outbox (chain, ord) WHERE status IN ('pending', 'sending');
        CREATE TABLE timers_keyed (id TEXT PRIMARY KEY, journey TEXT NOT NULL, due REAL NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
        INSERT INTO timers_keyed (id, journey, due, data) SELECT id, journey, due, data FROM timers;
        DROP TABLE timers;
        ALTER TABLE timers_keyed RENAME TO timers;
        CREATE INDEX timers_due ON timers (due, id);
        """,
        // 10: which action each counted candidate message is, so that one deferred by quiet
        // hours and dropped at its release, or dead-lettered, stops counting for `max_messages`.
        "ALTER TABLE messages ADD COLUMN action TEXT;",
        // 11: timer rows that cannot be read back (damaged) are parked here, out of the due
        // index, with their reason: left in `timers`, enough of them due at once held back every
        // good timer behind them (the due query's LIMIT counted them).
        """
        CREATE TABLE timers_broken (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, journey TEXT NOT NULL, due REAL NOT NULL,
                                    data TEXT NOT NULL, reason TEXT NOT NULL, parked_at REAL NOT NULL,
                                    status TEXT NOT NULL DEFAULT 'waiting');
        CREATE INDEX timers_broken_waiting ON timers_broken (seq) WHERE status = 'waiting';
        """,
        // 12: the application a delivery in review, or a journey refused for missing data, is
        // about, so that the data arriving later (webhooks out of order) sends it back to work.
        """
        ALTER TABLE deliveries ADD COLUMN application TEXT;
        CREATE INDEX deliveries_review_application ON deliveries (application) WHERE status = 'review';
        CREATE INDEX audit_review_application ON audit (json_extract(data, '$.application')) WHERE kind = 'review';
        """,
        // 13: when each journey ended (`retention.personal_data` counts from then; the state's
        // entry time, all a row had, stays put when a journey exits, times out or is cancelled).
        // Journeys that ended before take the time of their last audit entry.
        """
        ALTER TABLE journeys ADD COLUMN ended_at REAL;
        UPDATE journeys SET ended_at = COALESCE((SELECT MAX(at) FROM audit WHERE audit.journey = journeys.id), updated_at) WHERE active = 0;
        CREATE INDEX journeys_expiring ON journeys (ended_at) WHERE active = 0 AND key != '';
        """,
    ]

    static func migrate(_ db: SQLiteDatabase) throws(StoreError) {
        var current = 0
        try db.query("PRAGMA user_version") { row in current = Int(row.integer(0)) }
        guard current < migrations.count else {
            if current > migrations.count {
                throw StoreError("the database schema is version \(current), newer than this Hirewire (\(migrations.count)); upgrade Hirewire")
            }
            return
        }
        for version in current..<migrations.count {
            try db.transaction { () throws(StoreError) in
                try db.execute(migrations[version])
                try db.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }
}
