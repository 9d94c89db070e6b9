import Foundation
import HirewireEngine

extension SQLiteStore {
    /// Opens a read transaction on the store's second connection. WAL mode gives it the
    /// database as of this moment: transactions committed on the main connection while it is
    /// open stay out of its view. One snapshot at a time; the next waits for `close()`.
    public func openSnapshot() throws(StoreError) -> (any StoreSnapshot)? {
        try reader.open()
    }
}

/// The store's second connection, for snapshots. It is opened at first use (after migrations
/// ran on the main connection) and answers reads only.
///
/// Thread rule: `lock` is held from `open()` until the snapshot's `close()`, so one thread at a
/// time uses the connection (`@unchecked Sendable`).
final class SnapshotReader: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var connection: SQLiteDatabase?

    init(path: String) { self.path = path }

    func open() throws(StoreError) -> SQLiteSnapshot {
        lock.lock()
        do {
            let db: SQLiteDatabase
            if let connection {
                db = connection
            } else {
                db = try SQLiteDatabase(path: path)
                try db.execute("PRAGMA query_only = 1")
                connection = db
            }
            try db.execute("BEGIN")
            // A read transaction takes its view at its first read, so read now, before the
            // caller lets a commit start.
            try db.query("SELECT 1 FROM journeys LIMIT 1")
            return SQLiteSnapshot(db: db, reader: self)
        } catch {
            // Leave no transaction open behind: the next snapshot must be able to begin.
            if let connection { try? connection.execute("ROLLBACK") }
            lock.unlock()
            throw error
        }
    }

    fileprivate func close(_ db: SQLiteDatabase) {
        try? db.execute("COMMIT")
        lock.unlock()
    }
}

/// One read transaction on the snapshot connection.
final class SQLiteSnapshot: StoreSnapshot {
    private let db: SQLiteDatabase
    private let reader: SnapshotReader
    private var closed = false

    fileprivate init(db: SQLiteDatabase, reader: SnapshotReader) {
        self.db = db
        self.reader = reader
    }

    func journeyIndex(flow: String, keys: [String]) throws(StoreError) -> (active: [String: (id: String, seq: Int)], had: Set<String>) {
        try SQLiteStore.journeyIndex(in: db, flow: flow, keys: keys)
    }

    func journeys(ids: [String]) throws(StoreError) -> [String: Journey] {
        try SQLiteStore.journeys(in: db, ids: ids)
    }

    func recentMessages(candidates: [String], since: Date) throws(StoreError) -> [String: [Date]] {
        try SQLiteStore.recentMessages(in: db, candidates: candidates, since: since)
    }

    func close() {
        guard !closed else { return }
        closed = true
        reader.close(db)
    }

    deinit { close() }
}
