import Foundation
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore
import HirewireTestSupport

/// What each HTTP-based connector sends, as a real HTTP sink on 127.0.0.1 receives it.
final class HTTPConnectorTests: XCTestCase {
    let received = RequestLog()
    var sink: HTTPServer!
    var base = ""

    override func setUpWithError() throws {
        let received = self.received
        sink = try HTTPServer(port: 0) { request in
            received.add(request)
            return .json(200, #"{"ok": true}"#)
        }
        base = "http://127.0.0.1:\(sink.port)"
    }

    override func tearDown() { sink.stop() }

    func environment(_ settings: [String: Value], env: [String: String] = [:]) -> ConnectorEnvironment {
        ConnectorEnvironment(root: NSTemporaryDirectory(), settings: settings, env: env, allowPrivateNetworks: true)
    }

    var last: HTTPRequest? { received.all.last }

    func testHTTPSendsMethodHeadersJSONAndAVerifiableStandardWebhooksSignature() async throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let connector = HTTPConnector(environment: environment(["http": ["signing_secret": "env.HOOK_SECRET"]], env: ["HOOK_SECRET": secret]))
        let result = try await connector.execute(item("http", ["method": "put", "url": .string(base + "/onboarding?token=abc"), "headers": ["X-Team": "talent"],
                                                               "body": ["candidate": "c1", "start": "2026-04-13"], "sign": true]))
        XCTAssertEqual(result["status"], 200)
        let request = try XCTUnwrap(last)
        XCTAssertEqual(request.method, "PUT")
        XCTAssertEqual(request.headers["x-team"], "talent")
        XCTAssertEqual(request.headers["idempotency-key"], "jrn_1:3:states.extended.do[0]")
        XCTAssertEqual(request.headers["content-type"], "application/json")
        XCTAssertEqual(try Value.parseJSON(Data(request.body)), ["candidate": "c1", "start": "2026-04-13"])
        // The receiver verifies the signature with the same secret.
        XCTAssertNoThrow(try StandardWebhooks(secrets: [secret]).verify(id: request.headers["webhook-id"], timestamp: request.headers["webhook-timestamp"],
                                                                       signature: request.headers["webhook-signature"], body: request.body, now: Date()))
    }

    func testSlackTeamsSMSAndCRMRequestShapes() async throws {
        _ = try await SlackConnector(environment: environment(["slack": ["webhook_url": .string(base + "/slack")]]))
            .execute(item("slack", ["channel": "#offers", "text": "Offer out for Ada"]))
        XCTAssertEqual(try Value.parseJSON(Data(try XCTUnwrap(last).body)), ["channel": "#offers", "text": "Offer out for Ada"])

        _ = try await TeamsConnector(environment: environment(["teams": ["webhook_url": .string(base + "/teams")]]))
            .execute(item("teams", ["title": "Offer", "text": "Offer out"]))
        let card = try Value.parseJSON(Data(try XCTUnwrap(last).body))
        XCTAssertEqual(card["@type"], "MessageCard")
        XCTAssertEqual(card["title"], "Offer")

        _ = try await SMSConnector(environment: environment(["sms": ["url": .string(base + "/2010-04-01"), "account": "AC123", "token": "env.SMS_TOKEN",
                                                                    "from": "+15550100"]], env: ["SMS_TOKEN": "tok"]))
            .execute(item("sms", ["to": "+44 7700 900123", "text": "See you at 10:00 & bring ID"]))
        let sms = try XCTUnwrap(last)
        XCTAssertEqual(sms.path, "/2010-04-01/Accounts/AC123/Messages.json")
        XCTAssertEqual(sms.headers["authorization"], "Basic " + Data("AC123:tok".utf8).base64EncodedString())
        var form = URLComponents()
        form.percentEncodedQuery = String(decoding: sms.body, as: UTF8.self)
        let fields = Dictionary(uniqueKeysWithValues: (form.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        XCTAssertEqual(fields, ["To": "+44 7700 900123", "From": "+15550100", "Body": "See you at 10:00 & bring ID"])

        _ = try await CRMConnector(environment: environment(["crm": ["url": .string(base + "/api"), "token": "crm-token"]]))
            .execute(item("crm", ["candidate": "c 1/2", "fields": ["stage": "Offer"]]))
        let crm = try XCTUnwrap(last)
        XCTAssertEqual(crm.method, "PUT")
        XCTAssertEqual(crm.path, "/api/candidates/c 1/2", "the id arrives whole (sent percent-encoded; the server decodes it)")
        XCTAssertEqual(crm.headers["authorization"], "Bearer crm-token")
        XCTAssertEqual(try Value.parseJSON(Data(crm.body)), ["stage": "Offer"])
    }

    func testUnconfiguredChannelsLogInsteadOfSending() async throws {
        let before = received.all.count
        for connector in [SlackConnector(environment: environment([:])) as any Connector, TeamsConnector(environment: environment([:])),
                          SMSConnector(environment: environment([:])), CRMConnector(environment: environment([:]))] {
            let result = try await connector.execute(item(connector.name, ["text": "x", "to": "+1555", "candidate": "c1"]))
            XCTAssertEqual(result["logged"].boolValue, true, connector.name)
        }
        XCTAssertEqual(received.all.count, before)
    }

    func testRateLimitSpacesAConnectorsAttempts() async throws {
        let store = try SQLiteStore(path: temporaryFolder("rate") + "/h.db")
        let stamp = Timestamp.format(Date())
        var result = StepResult(journey: Journey(encoded: ["id": "jrn_r", "flow": "f", "version": "v", "key": "k", "state": "s",
                                                           "entered_at": .string(stamp), "entry": 1, "started_at": .string(stamp), "seq": 2]))
        result.actions = (0..<5).map { i in item("slack", ["text": .string("n\(i)")], key: "jrn_r:\(i + 2):states.s.do[0]").action }
        result.timeline = [TimelineEntry(at: Date(), flow: "f", journey: "jrn_r", key: "k", kind: "action", fields: [:])]
        try store.commit([StepCommit(result: result)], processedInbox: [], ignored: [])
        let slack = SlackConnector(environment: environment(["slack": ["webhook_url": .string(base + "/slack")]]))
        let dispatcher = ActionDispatcher(store: store, connectors: [slack], rates: ["slack": 10])
        let started = Date()
        await dispatcher.runOnce()
        XCTAssertEqual(received.all.filter { $0.path == "/slack" }.count, 5)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.35, "five sends at 10/s take at least 0.4 s")
    }
}

/// Requests a sink received.
final class RequestLog: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [HTTPRequest] = []
    func add(_ request: HTTPRequest) { lock.lock(); items.append(request); lock.unlock() }
    var all: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return items }
}
