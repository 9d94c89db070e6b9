import Foundation
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore

/// Sends one HTTP request through the SSRF guard with the action's `Idempotency-Key`, and turns
/// the answer into a result or a classified failure.
struct OutboundCall {
    let environment: ConnectorEnvironment
    let timeout: Double

    func perform(_ method: String, _ url: String, headers: [(String, String)], body: [UInt8], key: String) throws(ConnectorFailure) -> Value {
        let pin = try OutboundGuard.check(url, allowPrivate: environment.allowPrivateNetworks)
        let request = OutboundRequest(method: method, url: url, headers: headers + [("Idempotency-Key", key), ("User-Agent", "Hirewire")],
                                      body: body, timeout: timeout, pin: pin)
        let response: OutboundResponse
        do {
            response = try CurlPool.shared.perform(request)
        } catch {
            throw ConnectorFailure("\(method) \(Self.shown(url)): \(error.message)", retryable: true)
        }
        if let failure = ConnectorFailure.http(response.status, response.body, target: "\(method) \(Self.shown(url))") { throw failure }
        let text = String(decoding: response.body.prefix(2000), as: UTF8.self)
        return .object(["status": .number(Double(response.status)), "body": (try? Value.parseJSON(Data(text.utf8))) ?? .string(text)])
    }

    /// A URL without its query (tokens often live there) for messages.
    static func shown(_ url: String) -> String { String(url.prefix { $0 != "?" }) }

    static func json(_ value: Value) -> [UInt8] { Array(value.jsonString().utf8) }
}

/// Connectors that only log when they are not configured (slack, teams, sms, crm without a URL).
/// Recipients (`to`, `cc`) are masked like other personal fields; the JSON log masks the rest.
func loggedOnly(_ connector: String, _ item: OutboxItem, _ why: String) -> Value {
    var args = item.action.arguments.objectValue ?? [:]
    for key in ["to", "cc"] where args[key] != nil { args[key] = "***" }
    JSONLog.write("info", "\(connector) not configured; logged only", ["journey": .string(item.journey), "path": .string(item.action.path),
                                                                        "args": .object(args), "why": .string(why)])
    return .object(["logged": true])
}

/// `http`: any method to any URL, JSON body, extra headers; `sign: true` adds Standard Webhooks
/// headers signed with `connectors.http.signing_secret` (a `whsec_` secret).
public struct HTTPConnector: Connector {
    public let name = "http"
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, timeout: Double = 15) { call = OutboundCall(environment: environment, timeout: timeout) }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        let args = item.action.arguments
        guard let url = args["url"].stringValue, !url.isEmpty else { throw ConnectorFailure("http needs a url", retryable: false) }
        let method = (args["method"].stringValue ?? "POST").uppercased()
        let body: [UInt8] = args["body"].isNull ? [] : (args["body"].stringValue.map { Array($0.utf8) } ?? OutboundCall.json(args["body"]))
        var headers: [(String, String)] = (args["headers"].objectValue ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.displayString) }
        if !body.isEmpty && !headers.contains(where: { $0.0.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        if args["sign"].boolValue == true {
            guard let secret = call.environment.setting("http", "signing_secret") else {
                throw ConnectorFailure("sign: true needs connectors.http.signing_secret", retryable: false)
            }
            let timestamp = String(Int(Date().timeIntervalSince1970))
            guard let signature = StandardWebhooks.sign(secret: secret, id: item.action.idempotencyKey, timestamp: timestamp, body: body) else {
                throw ConnectorFailure("connectors.http.signing_secret is not a whsec_ secret", retryable: false)
            }
            headers += [("webhook-id", item.action.idempotencyKey), ("webhook-timestamp", timestamp), ("webhook-signature", signature)]
        }
        return try call.perform(method, url, headers: headers, body: body, key: item.action.idempotencyKey)
    }
}

/// `slack`: an incoming-webhook message (`connectors.slack.webhook_url`); logged only without one.
public struct SlackConnector: Connector {
    public let name = "slack"
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, timeout: Double = 15) { call = OutboundCall(environment: environment, timeout: timeout) }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        guard let url = call.environment.setting("slack", "webhook_url") else { return loggedOnly(name, item, "connectors.slack.webhook_url is unset") }
        var payload: [String: Value] = ["text": item.action.arguments["text"]]
        if let channel = item.action.arguments["channel"].stringValue { payload["channel"] = .string(channel) }
        return try call.perform("POST", url, headers: [("Content-Type", "application/json")], body: OutboundCall.json(.object(payload)),
                                key: item.action.idempotencyKey)
    }
}

/// `teams`: an incoming-webhook card (`connectors.teams.webhook_url`); logged only without one.
public struct TeamsConnector: Connector {
    public let name = "teams"
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, timeout: Double = 15) { call = OutboundCall(environment: environment, timeout: timeout) }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        guard let url = call.environment.setting("teams", "webhook_url") else { return loggedOnly(name, item, "connectors.teams.webhook_url is unset") }
        let card: Value = .object(["@type": "MessageCard", "@context": "https://schema.org/extensions",
                                   "title": item.action.arguments["title"], "text": item.action.arguments["text"]])
        return try call.perform("POST", url, headers: [("Content-Type", "application/json")], body: OutboundCall.json(card), key: item.action.idempotencyKey)
    }
}

/// `sms`: a Twilio-shaped provider by default — a form POST of To, From and Body to
/// `{url}/Accounts/{account}/Messages.json` with basic auth; logged only without an account.
public struct SMSConnector: Connector {
    public let name = "sms"
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, timeout: Double = 15) { call = OutboundCall(environment: environment, timeout: timeout) }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        let env = call.environment
        guard let account = env.setting("sms", "account"), let token = env.setting("sms", "token") else {
            return loggedOnly(name, item, "connectors.sms.account and token are unset")
        }
        let base = env.setting("sms", "url") ?? "https://api.twilio.com/2010-04-01"
        let from = env.setting("sms", "from") ?? ""
        var form = URLComponents()
        form.queryItems = [URLQueryItem(name: "To", value: item.action.arguments["to"].displayString),
                           URLQueryItem(name: "From", value: from),
                           URLQueryItem(name: "Body", value: item.action.arguments["text"].displayString)]
        let body = Array((form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
        let auth = Data("\(account):\(token)".utf8).base64EncodedString()
        return try call.perform("POST", "\(base)/Accounts/\(account)/Messages.json",
                                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic \(auth)")],
                                body: body, key: item.action.idempotencyKey)
    }
}

/// `crm`: upsert by candidate id — `PUT {connectors.crm.url}/candidates/{candidate}` with the
/// fields as JSON (bearer `connectors.crm.token`); logged only without a URL.
public struct CRMConnector: Connector {
    public let name = "crm"
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, timeout: Double = 15) { call = OutboundCall(environment: environment, timeout: timeout) }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        guard let base = call.environment.setting("crm", "url") else { return loggedOnly(name, item, "connectors.crm.url is unset") }
        guard let candidate = item.action.arguments["candidate"].stringValue, !candidate.isEmpty else {
            throw ConnectorFailure("crm needs a candidate id", retryable: false)
        }
        var headers = [("Content-Type", "application/json")]
        if let token = call.environment.setting("crm", "token") { headers.append(("Authorization", "Bearer \(token)")) }
        let id = candidate.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? candidate
        return try call.perform("PUT", "\(base)/candidates/\(id)", headers: headers, body: OutboundCall.json(item.action.arguments["fields"]),
                                key: item.action.idempotencyKey)
    }
}

/// `task`: a recruiter task kept by Hirewire (`hirewire tasks`), once per idempotency key, and
/// posted to `connectors.task.webhook_url` when one is set.
public struct TaskConnector: Connector {
    public let name = "task"
    let store: any OutboxStore
    let call: OutboundCall
    public init(environment: ConnectorEnvironment, store: any OutboxStore, timeout: Double = 15) {
        self.store = store
        call = OutboundCall(environment: environment, timeout: timeout)
    }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        let args = item.action.arguments
        guard let title = args["title"].stringValue, !title.isEmpty else { throw ConnectorFailure("task needs a title", retryable: false) }
        let now = Date()
        let due = args["due"].stringValue.flatMap { text -> Date? in
            if case .success(let seconds) = DurationSyntax.parse(text) { return now.addingTimeInterval(seconds) }
            return args["due"].asTimestamp
        } ?? args["due"].numberValue.map { now.addingTimeInterval($0) }
        let task = RecruiterTask(journey: item.journey, title: title, assignee: args["assignee"].stringValue, due: due,
                                 notes: args["notes"].stringValue, createdAt: now)
        do {
            _ = try store.saveTask(task, idempotencyKey: item.action.idempotencyKey)
        } catch {
            throw ConnectorFailure("cannot store the task: \(error.description)", retryable: true)
        }
        if let url = call.environment.setting("task", "webhook_url") {
            var payload: [String: Value] = ["title": .string(title), "assignee": args["assignee"], "notes": args["notes"], "journey": .string(item.journey)]
            if let due { payload["due"] = .string(Timestamp.format(due)) }
            return try call.perform("POST", url, headers: [("Content-Type", "application/json")], body: OutboundCall.json(.object(payload)),
                                    key: item.action.idempotencyKey)
        }
        return .object(["stored": true])
    }
}
