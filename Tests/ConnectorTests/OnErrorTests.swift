import Foundation
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireRuntime
import HirewireStore
import HirewireTestSupport

/// `on_error: {goto: STATE}`: an action the dispatcher gives up on is fed back into its journey
/// through the step function, and the failure raises an alert.
final class OnErrorTests: XCTestCase {
    func testDeadActionMovesTheJourneyToItsOnErrorStateAndAlerts() async throws {
        let root = temporaryFolder("onerror")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let alerts = AlertLog()
        let sink = try HTTPServer(port: 0) { request in
            if request.path == "/alerts" {
                alerts.add(String(decoding: request.body, as: UTF8.self))
                return .json(200, "{}")
            }
            return .json(422, #"{"error": "unknown candidate"}"#)
        }
        defer { sink.stop() }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try """
            outbound: {allow_private_networks: true}
            connectors:
              slack: {webhook_url: "http://127.0.0.1:\(sink.port)/alerts", alert_channel: "#recruiting-ops"}
            """.write(toFile: root + "/hirewire.yaml", atomically: true, encoding: .utf8)
        try """
            flow: sync
            start: {on: candidate.applied, key: application.id}
            initial: pushing
            states:
              pushing:
                do:
                  - http: {method: POST, url: "http://127.0.0.1:\(sink.port)/crm", body: {id: "{{candidate.id}}"}}
                    on_error: {goto: manual}
                on: {candidate.hired: done}
              manual:
                do:
                  - task: {title: "Add {{candidate.id}} to the CRM by hand"}
                on: {candidate.hired: done}
              done:
                end: hired
            """.write(toFile: root + "/flows/sync.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.diagnostics.filter { $0.severity == .error }.map(\.description), [])
        let store = try SQLiteStore(path: root + "/h.db")
        let engine = try JourneyEngine(project: project, store: store)
        let environment = ConnectorSet.environment(project: project, root: root, env: [:])
        let dispatcher = ActionDispatcher(store: store, connectors: ConnectorSet.builtIns(environment, store: store),
                                          policy: RetryPolicy(attempts: 3, base: 0.01, cap: 0.02), alerts: DeadLetterAlert(environment: environment),
                                          onDead: { item, reason in try? engine.actionFailed(journeyId: item.journey, action: item.action, reason: reason, now: Date()) })
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "candidate.applied", occurredAt: Date(), data: ["application": ["id": "a1"], "candidate": ["id": "c1"]])],
                              now: Date())
        try engine.processInbox(now: Date())
        for _ in 0..<50 where try store.tasks(openOnly: true).isEmpty {
            await dispatcher.runOnce()
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let journey = try XCTUnwrap(try store.activeJourney(flow: "sync", key: "a1"))
        XCTAssertEqual(journey.state, "manual", "the 422 dead-lettered the push and on_error moved the journey")
        XCTAssertEqual(try store.tasks(openOnly: true).map(\.title), ["Add c1 to the CRM by hand"])
        let alert = try XCTUnwrap(alerts.all.first)
        XCTAssertTrue(alert.contains("#recruiting-ops"), alert)
        XCTAssertTrue(alert.contains("422"), alert)
        XCTAssertTrue(try store.deadLetters(limit: 10).contains { $0.kind == .action && $0.reason.contains("422") })
    }
}

final class AlertLog: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ text: String) { lock.lock(); items.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
