import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import HirewireStore
import HirewireTestSupport

/// `serve` sends real mail: a vendor webhook in, one personalized email out through a real SMTP
/// server on 127.0.0.1 — once, however often the webhook is retried.
final class ServeConnectorTests: XCTestCase {
    func testDuplicateWebhookProducesExactlyOneEmailOverSMTP() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try setDaytimeDefaultZone(project)
        let sink = try SMTPSink(maildir: project + "/received")
        defer { sink.stop() }
        let secrets = ["GREENHOUSE_SECRET": "gh-secret", "SMTP_URL": "smtp://127.0.0.1:\(sink.port)"]
        let server = try ServerProcess(project: project, environment: secrets)
        for (name, value) in secrets { setenv(name, value, 1) }
        // Unset again after: a server a later test starts inherits this process's environment.
        defer { for name in secrets.keys { unsetenv(name) } }
        let url = "http://127.0.0.1:\(server.port)/hooks/greenhouse"
        let first = await hirewire(["send", "greenhouse", "examples/payloads/greenhouse/new_candidate_application.json", "--url", url], in: project)
        XCTAssertTrue(first.out.hasPrefix("202 "), first.out + first.err)
        // The server's address alone: send adds the source's route.
        let retried = await hirewire(["send", "greenhouse", "examples/payloads/greenhouse/new_candidate_application.json",
                                      "--url", "http://127.0.0.1:\(server.port)"], in: project)
        XCTAssertTrue(retried.out.hasPrefix("200 "), retried.out + retried.err)
        for _ in 0..<100 where sink.messages.isEmpty { try await Task.sleep(nanoseconds: 50_000_000) }
        try await Task.sleep(nanoseconds: 500_000_000)
        let messages = sink.messages
        XCTAssertEqual(messages.count, 1, "one email for one application, however often the webhook came")
        let message = try XCTUnwrap(messages.first)
        XCTAssertTrue(message.contains("X-Envelope-To: ada@example.com"), message)
        XCTAssertTrue(message.contains("From: Talent Team <talent@acme.test>"), message)
        XCTAssertTrue(message.contains("Subject: We received your application for Senior Data Engineer"), message)
        XCTAssertTrue(message.contains("Message-ID: <"), message)
        let text = decodedParts(message).first ?? ""
        XCTAssertTrue(text.hasPrefix("Hi Ada,"), message)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        let sent = try store.outboxRows(journey: nil).filter { $0.item.action.connector == "email" }
        XCTAssertEqual(sent.map(\.status), ["sent"])
        // The Slack notice has no webhook URL here: it is logged, and counted as sent.
        XCTAssertTrue(try store.outboxRows(journey: nil).contains { $0.item.action.connector == "slack" && $0.status == "sent" })
        // What went out, per connector, and per journey.
        let report = await hirewire(["report", "--since", "-1h"], in: project)
        XCTAssertEqual(report.code, 0, report.err)
        XCTAssertTrue(report.out.contains("email         1      0        0  100.0%"), report.out)
        XCTAssertTrue(report.out.contains("  application-received: active 1"), report.out)
        let journey = try XCTUnwrap(try store.activeJourney(flow: "application-received", key: "77120455"))
        let inspect = await hirewire(["inspect", journey.id], in: project)
        XCTAssertTrue(inspect.out.contains("sent      email states.received.do[0]  attempts 1"), inspect.out)
        XCTAssertTrue(try store.saveTask(RecruiterTask(journey: journey.id, title: "Call Ada", assignee: "sam@acme.test", due: nil, notes: nil,
                                                       createdAt: Date()), idempotencyKey: "t1"))
        let tasks = await hirewire(["tasks", "--open"], in: project)
        XCTAssertTrue(tasks.out.contains("open  Call Ada  → sam@acme.test"), tasks.out)
        XCTAssertTrue(tasks.out.hasSuffix("1 task\n"), tasks.out)
        var metricsRequest = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(server.port)/metrics")))
        metricsRequest.httpMethod = "GET"
        let (metrics, _) = try await URLSession.shared.data(for: metricsRequest)
        let page = String(decoding: metrics, as: UTF8.self)
        XCTAssertTrue(page.contains(#"hirewire_actions_total{connector="email",outcome="sent"} 1"#), page)
        XCTAssertTrue(page.contains(#"hirewire_events_total{type="candidate.applied"} 1"#), page)
        XCTAssertTrue(page.contains(#"hirewire_requests_total{source="greenhouse",status="200"} 1"#), page)
        XCTAssertTrue(page.contains("hirewire_timers_pending "), page)
        let (status, log) = server.stop()
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(log.contains("slack not configured; logged only"), log)
        XCTAssertFalse(log.contains("ada@example.com"), "the log masks the candidate")
    }

    /// kill -9 while the SMTP server holds the message it already stored: after the restart the
    /// email goes out again with the same Message-ID — the one case a second copy is allowed.
    func testKillDuringSMTPAcceptanceResendsWithTheSameMessageId() async throws {
        let project = try copyOfBundledProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try setDaytimeDefaultZone(project)
        let sink = try SMTPSink(maildir: project + "/received", delay: 3)
        defer { sink.stop() }
        let secrets = ["GREENHOUSE_SECRET": "gh-secret", "SMTP_URL": "smtp://127.0.0.1:\(sink.port)"]
        let server = try ServerProcess(project: project, environment: secrets)
        for (name, value) in secrets { setenv(name, value, 1) }
        // Unset again after: a server a later test starts inherits this process's environment.
        defer { for name in secrets.keys { unsetenv(name) } }
        let sent = await hirewire(["send", "greenhouse", "examples/payloads/greenhouse/new_candidate_application.json",
                                   "--url", "http://127.0.0.1:\(server.port)/hooks/greenhouse"], in: project)
        XCTAssertTrue(sent.out.hasPrefix("202 "), sent.out + sent.err)
        // The server has the message; Hirewire is still waiting for its 250 when it dies.
        for _ in 0..<100 where sink.messages.isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(sink.messages.count, 1)
        server.kill()
        let restarted = try ServerProcess(project: project, environment: secrets)
        let store = try SQLiteStore(path: project + "/.hirewire/hirewire.db")
        for _ in 0..<300 where try store.outboxRows(journey: nil).first(where: { $0.item.action.connector == "email" })?.status != "sent" {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let messages = sink.messages
        XCTAssertEqual(messages.count, 2, "resent once after the restart")
        let ids = Set(messages.compactMap { message in
            message.range(of: "Message-ID: <[^>]+>", options: .regularExpression).map { String(message[$0]) }
        })
        XCTAssertEqual(ids.count, 1, "the copy carries the same Message-ID: \(ids)")
        let (status, log) = restarted.stop()
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(log.contains("actions interrupted by a stop are tried again"), log)
    }
}
