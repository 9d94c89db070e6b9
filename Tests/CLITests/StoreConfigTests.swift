import Foundation
import XCTest
import HirewireStore

final class StoreConfigTests: XCTestCase {
    /// A PostgreSQL store in hirewire.yaml is refused, not silently replaced by SQLite.
    func testAPostgresStoreIsRefusedNotReplaced() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let config = try String(contentsOfFile: project + "/hirewire.yaml", encoding: .utf8)
        try ("store: {postgres: env.DATABASE_URL}\n" + config.split(separator: "\n").filter { !$0.hasPrefix("store:") }.joined(separator: "\n") + "\n")
            .write(toFile: project + "/hirewire.yaml", atomically: true, encoding: .utf8)
        let validate = await hirewire(["validate"], in: project)
        XCTAssertEqual(validate.code, 0, validate.out + validate.err)
        XCTAssertTrue((validate.out + validate.err).contains("store-unsupported"), validate.out + validate.err)
        let serve = await hirewire(["serve", "--port", "0"], in: project)
        XCTAssertEqual(serve.code, 2)
        XCTAssertTrue(serve.err.contains("PostgreSQL store"), serve.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.hirewire/hirewire.db"), "nothing was written to the SQLite default")
        let timers = await hirewire(["timers"], in: project)
        XCTAssertEqual(timers.code, 2, timers.err)
    }
}
