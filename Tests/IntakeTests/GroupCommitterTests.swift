import Foundation
import HirewireIntake
import HirewireLanguage
import HirewireStore
import XCTest

final class GroupCommitterTests: XCTestCase {
    var root = ""

    override func setUp() {
        root = NSTemporaryDirectory() + "hirewire-group-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    static func delivery(_ id: String) -> Delivery {
        Delivery(source: "acme", eventId: id, receivedAt: Date(), headers: ["x": "y"], body: Array(#"{"n": 1}"#.utf8))
    }

    /// Many threads acknowledging at once share transactions, every delivery is stored once, and a
    /// duplicate (even one racing its original) is reported as such.
    func testConcurrentAppendsShareTransactionsAndDeduplicate() throws {
        let store = try SQLiteStore(path: root + "/h.db")
        let committer = GroupCommitter(store: store)
        let outcomes = OutcomeLog()
        DispatchQueue.concurrentPerform(iterations: 64) { worker in
            for i in 0..<25 {
                // Every id is sent twice, by two different workers.
                let id = "d\((worker / 2) * 25 + i)"
                outcomes.add(id, committer.append(GroupCommitterTests.delivery(id)))
            }
        }
        committer.stop()
        let all = outcomes.all
        XCTAssertEqual(all.count, 1600)
        let stored = Dictionary(grouping: all.filter { $0.1 == .stored }, by: \.0)
        XCTAssertEqual(stored.count, 800, "each id stored exactly once")
        XCTAssertTrue(stored.values.allSatisfy { $0.count == 1 })
        XCTAssertEqual(all.filter { $0.1 == .duplicate }.count, 800)
        XCTAssertEqual(try store.deliveries(limit: 5000).count, 800)
        XCTAssertLessThan(committer.batches, 1600, "concurrent acknowledgements shared commits")
        XCTAssertEqual(committer.written, 1600)
        // Every stored delivery is on disk for a fresh connection.
        XCTAssertEqual(try SQLiteStore(path: root + "/h.db").deliveries(limit: 5000).count, 800)
    }

    func testAppendAfterStopFailsInsteadOfHanging() throws {
        let committer = GroupCommitter(store: try SQLiteStore(path: root + "/h.db"))
        XCTAssertEqual(committer.append(Self.delivery("a")), .stored)
        committer.stop()
        guard case .failed = committer.append(Self.delivery("b")) else { return XCTFail("expected a failure after stop") }
    }
}

final class JSONLogTests: XCTestCase {
    func testPersonalFieldsCompensationAndEmbeddedEmailsAreMasked() throws {
        let line = JSONLog.line("warn", "delivery needs review", [
            "candidate": ["id": "c1", "first_name": "Ada", "email": "ada@example.com", "phone": "+44 1"],
            "offer": ["id": "o1", "salary": ["amount": 98000]],
            "reason": "bounced: <ada@example.com> unknown",
            "email": "sam@acme.test",
        ], at: Date(timeIntervalSince1970: 0))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["msg"] as? String, "delivery needs review")
        XCTAssertEqual(object["level"] as? String, "warn")
        XCTAssertEqual(object["at"] as? String, "1970-01-01T00:00:00Z")
        XCTAssertEqual(object["email"] as? String, "***")
        XCTAssertEqual(object["reason"] as? String, "bounced: <***@example.com> unknown")
        let candidate = try XCTUnwrap(object["candidate"] as? [String: Any])
        XCTAssertEqual(candidate["id"] as? String, "c1")
        XCTAssertEqual(candidate["first_name"] as? String, "***")
        XCTAssertEqual(candidate["phone"] as? String, "***")
        XCTAssertEqual((object["offer"] as? [String: Any])?["salary"] as? String, "***")
        for text in ["Ada", "ada@", "98000", "sam@"] { XCTAssertFalse(line.contains(text), text) }
    }
}

final class OutcomeLog: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [(String, GroupCommitter.Outcome)] = []
    func add(_ id: String, _ outcome: GroupCommitter.Outcome) { lock.lock(); items.append((id, outcome)); lock.unlock() }
    var all: [(String, GroupCommitter.Outcome)] { lock.lock(); defer { lock.unlock() }; return items }
}
