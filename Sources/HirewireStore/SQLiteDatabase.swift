import CSQLite
import Foundation

/// A store failure: what went wrong and, for SQL errors, the statement.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var sql: String?
    /// The store could not do the work now (busy, locked, out of memory or disk, an I/O error)
    /// whatever the data: the same work may succeed later, so it is retried, never parked.
    public var transient: Bool
    public init(_ message: String, sql: String? = nil, transient: Bool = false) {
        self.message = message
        self.sql = sql
        self.transient = transient
    }
    public var description: String { sql.map { "\(message) (in: \($0))" } ?? message }
    /// Whether the commit was refused because another writer stepped its journey since it was
    /// read: the same work, done again from a fresh read, succeeds (``staleJourney(_:)``).
    public private(set) var isStaleJourney = false

    /// The refusal of a commit whose journey `id` another writer stepped since it was read:
    /// transient, and marked so that callers can redo the work from a fresh read.
    public static func staleJourney(_ id: String) -> StoreError {
        var error = StoreError("journey \(id) \(staleJourneyMessage)", transient: true)
        error.isStaleJourney = true
        return error
    }

    /// Whether the commit was refused because an inbox event it would mark processed is no
    /// longer pending: another writer (a second engine on the same file) processed or parked it
    /// first. Nothing of the commit is written; the event must not be applied again.
    public private(set) var isInboxTaken = false

    /// The refusal of a commit that would process inbox event `sequence` a second time.
    public static func inboxTaken(_ sequence: Int64) -> StoreError {
        var error = StoreError("inbox event \(sequence) \(inboxTakenMessage)")
        error.isInboxTaken = true
        return error
    }
}

/// One SQLite connection and its prepared statements.
///
/// Thread rule: a connection is used by one thread at a time. `SQLiteStore` guarantees it by
/// holding its lock around every use, which is why this class may be `@unchecked Sendable`.
final class SQLiteDatabase: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [StatementKey: OpaquePointer] = [:]
    /// Statements whose SQL is a literal, by the literal's address: found without hashing or
    /// comparing their text (the write path runs a handful of them for every step).
    private var staticStatements: [UInt: OpaquePointer] = [:]

    /// The process-wide settings, applied once before the first connection opens.
    private static let configured: Int32 = hirewire_sqlite_configure()

    init(path: String) throws(StoreError) {
        _ = Self.configured
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            handle = nil
            throw StoreError("cannot open SQLite database \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 10_000)
    }

    /// The schema version, the number of tables and whether a `journeys` table exists in the
    /// database at `path`, read on a read-only connection (the file is not changed); nil when it
    /// is not an SQLite database.
    static func peek(_ path: String) -> (version: Int64, tables: Int64, journeys: Bool)? {
        _ = configured
        var handle: OpaquePointer?
        defer { sqlite3_close(handle) }
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let handle else { return nil }
        func integer(_ sql: String) -> Int64? {
            var statement: OpaquePointer?
            defer { sqlite3_finalize(statement) }
            guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, sqlite3_step(statement) == SQLITE_ROW else { return nil }
            return sqlite3_column_int64(statement, 0)
        }
        guard let version = integer("PRAGMA user_version"), let tables = integer("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"),
              let journeys = integer("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'journeys'")
        else { return nil }
        return (version, tables, journeys == 1)
    }

    deinit {
        for (_, statement) in statements { sqlite3_finalize(statement) }
        for (_, statement) in staticStatements { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    private func error(_ sql: String?) -> StoreError {
        StoreError(handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection", sql: sql,
                   transient: Self.transient(handle.map(sqlite3_errcode) ?? SQLITE_CANTOPEN))
    }

    /// Result codes that say nothing about the data: the database is busy or locked, memory or
    /// disk ran out, or I/O failed.
    static func transient(_ code: Int32) -> Bool {
        [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL].contains(code & 0xFF)
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw StoreError(text, sql: sql, transient: Self.transient(rc))
        }
    }

    /// Runs a statement with `bindings`, calling `row` for each result row.
    func query(_ sql: String, _ bindings: [SQLValue] = [], row: (Row) throws(StoreError) -> Void = { _ in }) throws(StoreError) {
        try run(try prepare(sql), sql, bindings, row: row)
    }

    /// ``query(_:_:row:)`` for SQL written as a literal: its statement is found by the literal's
    /// address. For the statements every step runs.
    func query(static sql: StaticString, _ bindings: [SQLValue] = [], row: (Row) throws(StoreError) -> Void = { _ in }) throws(StoreError) {
        // A one-scalar static string has no address of its own (and no statement is one scalar).
        guard sql.hasPointerRepresentation else { return try query(sql.description, bindings, row: row) }
        let address = UInt(bitPattern: sql.utf8Start)
        if let cached = staticStatements[address] {
            try run(cached, nil, bindings, row: row)
            return
        }
        let text = sql.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        let statement = try compile(text)
        staticStatements[address] = statement
        try run(statement, text, bindings, row: row)
    }

    /// Binds `bindings` to `statement`, steps it to the end and resets it. `sql` names it in
    /// errors (a static statement's text is looked up only then).
    private func run(_ statement: OpaquePointer, _ sql: String?, _ bindings: [SQLValue], row: (Row) throws(StoreError) -> Void) throws(StoreError) {
        func text() -> String? { sql ?? sqlite3_sql(statement).map { String(cString: $0) } }
        func failure() -> StoreError { error(text()) }
        // A statement run again from inside its own rows would rebind it under the outer run,
        // which then read text freed by the inner one.
        guard sqlite3_stmt_busy(statement) == 0 else {
            throw StoreError("a statement was run again while its rows were being read", sql: text())
        }
        // Text is bound without a copy from one buffer that lives until the statement is reset:
        // binding each string as a C string (a copy) for SQLite to copy again (SQLITE_TRANSIENT)
        // was a tenth of a commit's work.
        var textBytes = 0
        for case .text(let s) in bindings { textBytes += s.utf8.count }
        let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: max(textBytes, 1))
        defer {
            sqlite3_reset(statement)
            arena.deallocate()
        }
        // Every parameter is bound below; one left out would keep a binding of an earlier run.
        if bindings.count < sqlite3_bind_parameter_count(statement) { sqlite3_clear_bindings(statement) }
        var offset = 0
        for (i, value) in bindings.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let n): rc = sqlite3_bind_int64(statement, index, n)
            case .real(let d): rc = sqlite3_bind_double(statement, index, d)
            case .text(var s):
                let start = arena + offset
                let count = s.withUTF8 { bytes in
                    if let base = bytes.baseAddress { start.update(from: base, count: bytes.count) }
                    return bytes.count
                }
                offset += count
                guard let length = Int32(exactly: count) else { throw StoreError("a text of \(count) bytes is too long for SQLite", sql: text()) }
                rc = hirewire_bind_text_static(statement, index, start, length)
            }
            guard rc == SQLITE_OK else { throw failure() }
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw failure() }
            try row(Row(statement: statement))
        }
    }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(handle)) }
    /// The rowid of the last row inserted on this connection.
    var lastInsertRowid: Int64 { sqlite3_last_insert_rowid(handle) }

    private func prepare(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let cached = statements[StatementKey(sql: sql)] { return cached }
        let statement = try compile(sql)
        statements[StatementKey(sql: sql)] = statement
        return statement
    }

    /// A new prepared statement for `sql` (the caller caches it).
    private func compile(_ sql: String) throws(StoreError) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw error(sql) }
        return statement
    }

    /// A statement's SQL as the cache's key: hashed by its length and its first and last 32
    /// bytes, compared whole, byte for byte. Hashing the whole text of a long statement on every
    /// use cost about as much as running a small one, and `String`'s own comparison went
    /// through Unicode-aware code for what is always ASCII.
    private struct StatementKey: Hashable {
        let sql: String

        func hash(into hasher: inout Hasher) {
            var sql = sql
            sql.withUTF8 { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.prefix(32))))
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(32))))
            }
        }

        static func == (a: StatementKey, b: StatementKey) -> Bool {
            var x = a.sql, y = b.sql
            return x.withUTF8 { p in y.withUTF8 { q in p.count == q.count && p.elementsEqual(q) } }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: all or nothing.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A value bound to or read from SQL.
enum SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// The current row of a query.
struct Row {
    let statement: OpaquePointer

    /// The text as stored, all of it: a NUL inside it is kept (text is bound with its length,
    /// so a value read back must be read with its length too, or it would no longer match).
    func text(_ i: Int32) -> String? {
        guard sqlite3_column_type(statement, i) != SQLITE_NULL, let p = sqlite3_column_text(statement, i) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, i))), as: UTF8.self)
    }

    func real(_ i: Int32) -> Double { sqlite3_column_double(statement, i) }
    func integer(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }
    /// How many columns the query gives.
    var columnCount: Int { Int(sqlite3_column_count(statement)) }
}
