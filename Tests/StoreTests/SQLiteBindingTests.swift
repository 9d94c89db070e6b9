import Foundation
import XCTest
@testable import HirewireStore

/// Text is bound to statements without a copy, from a buffer that lives for one run of the
/// statement: what goes in must come back byte for byte, runs of a cached statement must not see
/// each other's values, and an empty text stays text.
final class SQLiteBindingTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hirewire-binding-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testTextRoundTripsThroughACachedStatement() throws {
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (n INTEGER, a TEXT, b TEXT, c TEXT)")
        let long = String(repeating: "Größe 🚀 ", count: 5_000)
        let rows: [(String, String, String)] = [("", "x", long), ("Ada Lovelace", "", "ünïcödé"), ("a'b\"c", "line\nbreak", "")]
        for (i, row) in rows.enumerated() {
            // The same SQL each time: the cached statement is reused with new bindings.
            try db.query("INSERT INTO t (n, a, b, c) VALUES (?, ?, ?, ?)", [.integer(Int64(i)), .text(row.0), .text(row.1), .text(row.2)])
        }
        var back: [(String?, String?, String?)] = []
        var nulls = 0
        try db.query("SELECT a, b, c, (a IS NULL) + (b IS NULL) + (c IS NULL) FROM t ORDER BY n") { row in
            back.append((row.text(0), row.text(1), row.text(2)))
            nulls += Int(row.integer(3))
        }
        XCTAssertEqual(nulls, 0, "an empty text is stored as text, not NULL")
        XCTAssertEqual(back.count, rows.count)
        for (got, want) in zip(back, rows) {
            XCTAssertEqual(got.0, want.0)
            XCTAssertEqual(got.1, want.1)
            XCTAssertEqual(got.2, want.2)
        }
        // A bound text used for a lookup, after other runs of the same statement.
        var found: Int64 = -1
        for probe in ["nothing", "ünïcödé"] {
            try db.query("SELECT n FROM t WHERE c = ?", [.text(probe)]) { row in found = row.integer(0) }
        }
        XCTAssertEqual(found, 1)
    }

    /// A statement run with fewer values than it has parameters gets NULL for the rest, never
    /// the value an earlier run bound there.
    func testMissingParametersAreNullNotLeftOver() throws {
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (a TEXT, b TEXT)")
        try db.query("INSERT INTO t (a, b) VALUES (?, ?)", [.text("first"), .text("kept?")])
        try db.query("INSERT INTO t (a, b) VALUES (?, ?)", [.text("second")])
        var b: String? = "unset"
        try db.query("SELECT b FROM t WHERE a = 'second'") { row in b = row.text(0) }
        XCTAssertNil(b)
    }

    /// A NUL inside a text is stored and read back whole, so a value read back still finds
    /// its row.
    func testTextWithANulRoundTripsAndStillMatches() throws {
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)")
        let id = "x\u{0}y"
        try db.query("INSERT INTO t (id, n) VALUES (?, 1)", [.text(id)])
        var back: String?
        try db.query("SELECT id FROM t") { row in back = row.text(0) }
        XCTAssertEqual(back, id)
        XCTAssertEqual(back?.utf8.count, 3)
        try db.query("INSERT INTO t (id, n) VALUES (?, 2) ON CONFLICT(id) DO UPDATE SET n = excluded.n", [.text(back ?? "")])
        var rows: [Int64] = []
        try db.query("SELECT n FROM t") { row in rows.append(row.integer(0)) }
        XCTAssertEqual(rows, [2], "the value read back updates its row instead of adding one")
    }

    /// A statement run again from inside its own rows is refused (it would rebind the outer run).
    func testAStatementIsNotRunAgainInsideItsOwnRows() throws {
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('one'), ('two')")
        var inner: StoreError?
        var seen: [String] = []
        try db.query(static: "SELECT a FROM t WHERE a <> ? ORDER BY a", [.text("none")]) { row in
            seen.append(row.text(0) ?? "")
            do throws(StoreError) { try db.query(static: "SELECT a FROM t WHERE a <> ? ORDER BY a", [.text("x")]) } catch { inner = error }
        }
        XCTAssertEqual(seen, ["one", "two"], "the outer run reads all its rows")
        XCTAssertTrue(inner?.message.contains("run again") == true, "\(String(describing: inner))")
    }
}
