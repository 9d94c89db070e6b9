import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireStore

/// kill -9 under load: every delivery the server acknowledged (2xx) is in the store after the
/// crash, and the restarted server maps all of them.
final class IntakeCrashTests: XCTestCase {
    func testKillDashNineUnderLoadLosesNoAcknowledgedDelivery() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let server = try ServerProcess(project: project, environment: ["HIREWIRE_EVENTS_TOKEN": "load"])
        let port = server.port
        let acknowledged = AcknowledgedIds()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.timeoutIntervalForRequest = 5
        let session = URLSession(configuration: configuration)

        // Sixteen senders post unique canonical events until the server dies under them.
        let senders = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for n in 0..<100_000 {
                            let id = "load-\(worker)-\(n)"
                            let body = #"{"id": "\#(id)", "type": "candidate.stage_changed", "data": {"application": {"id": "app-\#(worker)-\#(n)", "stage": "Screen"}}}"#
                            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/events")!)
                            request.httpMethod = "POST"
                            request.httpBody = Data(body.utf8)
                            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                            request.setValue("Bearer load", forHTTPHeaderField: "Authorization")
                            guard let (_, response) = try? await session.data(for: request), let http = response as? HTTPURLResponse else { return }
                            if (200..<300).contains(http.statusCode) { acknowledged.add(id) }
                        }
                    }
                }
            }
        }
        // Let the load build up, then kill the server without warning mid-stream.
        for _ in 0..<200 where acknowledged.count < 400 { try await Task.sleep(nanoseconds: 10_000_000) }
        server.kill()
        await senders.value
        let acked = acknowledged.all
        XCTAssertGreaterThanOrEqual(acked.count, 400, "the load ran before the kill")

        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let stored = Set(try store.deliveries(limit: 1_000_000).map(\.eventId))
        let lost = acked.subtracting(stored)
        XCTAssertTrue(lost.isEmpty, "\(lost.count) acknowledged deliveries lost, e.g. \(Array(lost.prefix(3)))")

        // The restarted server maps everything that was stored, acknowledged or not.
        let restarted = try ServerProcess(project: project, environment: ["HIREWIRE_EVENTS_TOKEN": "load"])
        var pending = -1
        for _ in 0..<200 where pending != 0 {
            try await Task.sleep(nanoseconds: 50_000_000)
            pending = try store.depths().deliveries
        }
        XCTAssertEqual(pending, 0, "deliveries left unmapped after restart")
        let (status, log) = restarted.stop()
        XCTAssertEqual(status, 0, log)
    }
}

/// Ids answered 2xx, collected from the sender tasks.
final class AcknowledgedIds: @unchecked Sendable {
    // @unchecked: `ids` is only touched under `lock`.
    private let lock = NSLock()
    private var ids: Set<String> = []
    func add(_ id: String) { lock.lock(); ids.insert(id); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return ids.count }
    var all: Set<String> { lock.lock(); defer { lock.unlock() }; return ids }
}
