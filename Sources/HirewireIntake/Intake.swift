import Foundation
import Synchronization
import HirewireLanguage
import HirewireStore

/// The webhook intake: `POST /hooks/{source}` is verified, deduplicated and stored raw before it
/// is answered; mapping to canonical events and the journeys run after the answer.
///
/// Answers: 202 stored; 200 duplicate (an event id seen before); 401 bad or missing signature;
/// 400 body not JSON; 404 unknown source; 413 too large (the server refuses it); 415 not JSON
/// content; 405 wrong method. Refusals are recorded without their bodies.
public final class Intake: Sendable {
    private let sourceTable: Mutex<[String: (CompiledSource, SignatureScheme)]>
    var sources: [String: (CompiledSource, SignatureScheme)] { sourceTable.withLock { $0 } }
    let store: any JourneyStore
    /// Writes acknowledged deliveries in batches (group commit).
    public let committer: GroupCommitter
    let clock: @Sendable () -> Date
    /// The bearer token `POST /events` requires; nil (unset) refuses everyone.
    let eventsToken: String?
    /// Requests by source and status, signature failures, duplicates.
    public let metrics = IntakeMetrics()
    /// Whether refusals are logged (serve: yes; tests that provoke hundreds of them may turn it off).
    public let logRefusals: Bool
    /// Unmapped deliveries beyond which new ones get 503 with Retry-After (backpressure); nil
    /// means no bound (the benchmark, which never maps).
    let maxPending: Int?
    /// The last count of unmapped deliveries and when it was read (re-read at most once a second;
    /// in between, each acknowledgement counts one more).
    private let pendingCount = Mutex<(at: Date, count: Int)>((.distantPast, 0))

    /// Sets up the sources of `project`; secrets are read from `env` (`secret: env.NAME`, or a
    /// list of them for rotation). A source whose secret is unset refuses every delivery.
    /// Other counters /metrics shows (the dispatcher's).
    let extraMetrics: [IntakeMetrics]

    public init(project: CompiledProject, store: any JourneyStore, env: [String: String], maxPending: Int? = 100_000,
                logRefusals: Bool = true, extraMetrics: [IntakeMetrics] = [], clock: @escaping @Sendable () -> Date = { Date() }) {
        self.extraMetrics = extraMetrics
        self.logRefusals = logRefusals
        self.maxPending = maxPending
        sourceTable = Mutex(Intake.verifiers(project, env: env))
        self.store = store
        committer = GroupCommitter(store: store)
        self.clock = clock
        let reference = project.files.config.server.eventsToken ?? "env.HIREWIRE_EVENTS_TOKEN"
        let token = reference.hasPrefix("env.") ? env[String(reference.dropFirst(4))] : reference
        eventsToken = (token?.isEmpty ?? true) ? nil : token
    }

    /// Writes what is still queued and stops the committer (after the HTTP server stopped).
    public func stop() { committer.stop() }

    /// The answer for a stored delivery: 202 new, 200 duplicate, 503 when the store failed.
    static func answer(for delivery: Delivery, _ outcome: GroupCommitter.Outcome) -> HTTPResponse {
        switch outcome {
        case .stored: return answer(202, ["id": .string(delivery.eventId), "duplicate": .bool(false)])
        case .duplicate: return answer(200, ["id": .string(delivery.eventId), "duplicate": .bool(true)])
        case .failed: return HTTPResponse.json(503, #"{"error": "store unavailable"}"#, headers: [("Retry-After", "5")])
        }
    }

    /// What a request comes to before storage: an answer now, or a delivery to store first.
    enum Routed {
        case answer(HTTPResponse)
        case store(Delivery)
    }

    /// Swaps in the sources of a newly compiled (and valid) project.
    public func reload(project: CompiledProject, env: [String: String]) {
        let sources = Intake.verifiers(project, env: env)
        sourceTable.withLock { $0 = sources }
    }

    /// Whether the unmapped deliveries are over their bound.
    func overloaded(now: Date) -> Bool {
        guard let maxPending else { return false }
        let count = pendingCount.withLock { state -> Int? in now.timeIntervalSince(state.at) < 1 ? state.count : nil }
            ?? {
                let fresh = (try? store.depths().deliveries) ?? 0
                pendingCount.withLock { $0 = (now, fresh) }
                return fresh
            }()
        if count >= maxPending { return true }
        pendingCount.withLock { $0.count += 1 }
        return false
    }

    static let busy = HTTPResponse.json(503, #"{"error": "inbox is full; retry later"}"#, headers: [("Retry-After", "1")])

    /// `POST /events`: a canonical event, authorized by the bearer token.
    func canonical(_ request: HTTPRequest, now: Date, refuse: (Int, String) -> HTTPResponse) -> Routed {
        // The scheme's name is case-insensitive (RFC 9110): `bearer` is Bearer.
        guard let token = eventsToken, let offered = request.headers["authorization"], offered.prefix(7).lowercased() == "bearer ",
              Crypto.constantTimeEqual(Array(offered.dropFirst(7).utf8), Array(token.utf8)) else {
            return .answer(refuse(401, "missing or wrong bearer token"))
        }
        guard Self.isJSON(request.headers["content-type"]) else {
            return .answer(refuse(415, "content type must be application/json"))
        }
        guard case .object(let event)? = try? Value.parseJSON(Data(request.body)) else { return .answer(refuse(400, "body is not a JSON object")) }
        guard let id = event["id"]?.stringValue, !id.isEmpty, let type = event["type"]?.stringValue else {
            return .answer(refuse(400, "a canonical event needs id and type"))
        }
        guard EventCatalog.v1.isKnown(type) || type.hasPrefix("x.") else { return .answer(refuse(400, "unknown event type '\(type)'")) }
        // A time that does not read would have been taken as the time received, and could have
        // overwritten newer context; data that is not an object has no entities to merge.
        if let at = event["occurred_at"], at.stringValue.flatMap(Timestamp.parse) == nil {
            return .answer(refuse(400, "occurred_at must be an RFC 3339 time such as 2026-03-02T14:00:00Z"))
        }
        if let data = event["data"], data.objectValue == nil { return .answer(refuse(400, "data must be an object of entities")) }
        if overloaded(now: now) { return .answer(Self.busy) }
        return .store(Delivery(source: "events", eventId: id, receivedAt: now, headers: [:], body: request.body))
    }

    /// Each source of `project` with the signature scheme its settings describe.
    static func verifiers(_ project: CompiledProject, env: [String: String]) -> [String: (CompiledSource, SignatureScheme)] {
        project.sources.mapValues { ($0, scheme($0.signature, env: env)) }
    }

    /// The signature scheme a source's settings describe.
    public static func scheme(_ settings: Value, env: [String: String]) -> SignatureScheme {
        let secrets = secrets(settings, env: env)
        switch settings["scheme"].stringValue {
        case "standard-webhooks": return .standardWebhooks(StandardWebhooks(secrets: secrets))
        case "greenhouse": return .greenhouse(secrets)
        case "ashby": return .ashby(secrets)
        case "workable": return .workable(secrets)
        case "lever": return .lever(secrets: secrets)
        case "hmac-sha256":
            return .hmac(HMACSignature(secrets: secrets, header: settings["header"].stringValue ?? "X-Signature",
                                       prefix: settings["prefix"].stringValue ?? "",
                                       encoding: settings["encoding"].stringValue == "base64" ? .base64 : .hex,
                                       timestampHeader: settings["timestamp_header"].stringValue,
                                       tolerance: settings["tolerance"].numberValue ?? 300))
        case "none": return .none
        default: return .standardWebhooks(StandardWebhooks(secrets: []))
        }
    }

    /// The environment variables a signing source names when none of them is set (nil when a
    /// secret resolves, or the source does not sign): a sender without its secret cannot sign.
    public static func unsetSecrets(_ settings: Value, env: [String: String]) -> [String]? {
        guard settings["scheme"].stringValue != "none", secrets(settings, env: env).isEmpty else { return nil }
        let names = secretReferences(settings).filter { $0.hasPrefix("env.") }.map { String($0.dropFirst(4)) }
        return names.isEmpty ? ["a secret in the source's signature"] : names
    }

    /// A signature's `secret:` as written: one reference or a list of them (rotation).
    static func secretReferences(_ settings: Value) -> [String] {
        settings["secret"].arrayValue?.compactMap(\.stringValue) ?? [settings["secret"].stringValue].compactMap { $0 }
    }

    /// The secrets those references give: `env.NAME` read from `env`, others as written; unset
    /// and empty ones left out.
    static func secrets(_ settings: Value, env: [String: String]) -> [String] {
        secretReferences(settings).compactMap { reference in
            reference.hasPrefix("env.") ? env[String(reference.dropFirst(4))] : reference
        }.filter { !$0.isEmpty }
    }

    static func answer(_ status: Int, _ fields: [String: Value]) -> HTTPResponse {
        .json(status, Value.object(fields).jsonString())
    }

    /// Handles one request and returns its answer, storing an accepted delivery first (the
    /// calling thread waits for the group commit). Used by tests and the synchronous server.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let response: HTTPResponse
        switch route(request) {
        case .answer(let answer): response = answer
        case .store(let delivery): response = Self.answer(for: delivery, committer.append(delivery))
        }
        count(request, response)
        return response
    }

    /// Handles one request on a suspended connection: an accepted delivery is answered by the
    /// committer thread once its transaction committed; `stored` runs after each new delivery.
    public func handle(_ request: HTTPRequest, responder: HTTPResponder, stored: @escaping @Sendable () -> Void = {}) {
        switch route(request) {
        case .answer(let response):
            count(request, response)
            responder.respond(response)
        case .store(let delivery):
            committer.append(delivery) { [self] outcome in
                let response = Self.answer(for: delivery, outcome)
                count(request, response)
                responder.respond(response)
                if outcome == .stored { stored() }
            }
        }
    }

    /// Counts an answer by source and status.
    private func count(_ request: HTTPRequest, _ response: HTTPResponse) {
        if request.path.hasPrefix("/hooks/") || request.path == "/events" {
            // A source the project does not configure is counted as `unknown`: every name a
            // scanner tries would otherwise be a series of its own.
            let name = Self.sourceName(request.path)
            let source = name == "events" || sources[name] != nil ? name : "unknown"
            metrics.add("hirewire_requests_total", ["source": source, "status": String(response.status)])
            if response.status == 401 { metrics.add("hirewire_signature_failures_total", ["source": source]) }
            if response.status == 200 { metrics.add("hirewire_duplicates_total", ["source": source]) }
        }
    }

    private func metricsPage() -> HTTPResponse {
        let depths = (try? store.depths()) ?? (timers: 0, inbox: 0, deliveries: 0)
        let (timers, inbox, pending) = (depths.timers, depths.inbox, depths.deliveries)
        metrics.set("hirewire_group_commits_total", to: Double(committer.batches))
        let text = IntakeMetrics.render([metrics] + extraMetrics, gauges: ["hirewire_timers_pending": Double(timers), "hirewire_inbox_depth": Double(inbox),
                                                                         "hirewire_deliveries_unmapped": Double(pending)])
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array(text.utf8))
    }

    /// The socket's address; a proxy's X-Forwarded-For is added after it, as what it claims
    /// (were it alone recorded, no direct caller would have an address and any could pick one).
    static func peer(of request: HTTPRequest) -> String {
        request.headers["x-forwarded-for"].map { "\(request.peer) (forwarded for \($0))" } ?? request.peer
    }

    /// The source a path names: `events` for `/events`, `NAME` for `/hooks/NAME`.
    /// Whether a Content-Type names JSON: `application/json` or a `+json` type such as
    /// `application/vnd.api+json`, with any parameters (`; charset=utf-8`). `application/jsonx`
    /// and `application/json-seq` are not JSON bodies.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = (contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? "")
            .trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// The source a path names, as stored and shown: control characters (a `%0A` in the path)
    /// become `?` and the name is cut at 100 characters, since anyone can send any path.
    static func sourceName(_ path: String) -> String {
        guard path != "/events" else { return "events" }
        let name = String(String.UnicodeScalarView(path.dropFirst("/hooks/".count).unicodeScalars.prefix(100).map {
            $0.value < 0x20 || $0.value == 0x7F ? "?" : $0
        }))
        return name
    }

    /// A refused request, kept without its body: in the store (`events --rejected`), in the log.
    private func record(refusal status: Int, _ reason: String, source: String, peer: String, at now: Date) {
        try? store.recordRejection(at: now, source: source, status: status, reason: reason, peer: peer)
        if logRefusals {
            JSONLog.write("warn", "request refused", ["source": .string(source), "status": .number(Double(status)), "reason": .string(reason),
                                                      "peer": .string(peer)])
        }
    }

    /// A request the HTTP server answered 413 without reading its body (over `limit` bytes):
    /// recorded and counted like the refusals intake answers itself.
    public func refusedOversized(_ request: HTTPRequest, limit: Int) {
        guard request.path.hasPrefix("/hooks/") || request.path == "/events" else { return }
        let peer = Self.peer(of: request)
        record(refusal: 413, "body over \(limit) bytes", source: Self.sourceName(request.path), peer: peer, at: clock())
        count(request, HTTPResponse(status: 413))
    }

    private func route(_ request: HTTPRequest) -> Routed {
        if request.path == "/metrics" { return .answer(metricsPage()) }
        let now = clock()
        let peer = Self.peer(of: request)
        if request.path == "/healthz" { return .answer(Self.answer(200, ["status": "ok"])) }
        if request.path == "/readyz" {
            let ready = (try? store.nextDue()) != nil || (try? store.pendingInbox(limit: 1)) != nil
            return .answer(Self.answer(ready ? 200 : 503, ["status": ready ? "ready" : "store unreachable"]))
        }
        let name = Self.sourceName(request.path)
        func refuse(_ status: Int, _ reason: String) -> HTTPResponse {
            record(refusal: status, reason, source: name, peer: peer, at: now)
            return Self.answer(status, ["error": .string(reason)])
        }
        if request.path == "/events" {
            guard request.method == "POST" else { return .answer(refuse(405, "use POST")) }
            return canonical(request, now: now, refuse: refuse)
        }
        guard request.path.hasPrefix("/hooks/") else { return .answer(Self.answer(404, ["error": "no such route"])) }
        guard request.method == "POST" else { return .answer(refuse(405, "use POST")) }
        guard let (source, scheme) = sources[name] else { return .answer(refuse(404, "unknown source '\(name)'")) }
        guard Self.isJSON(request.headers["content-type"]) else {
            return .answer(refuse(415, "content type must be application/json"))
        }
        do {
            try scheme.verify(headers: request.headers, body: request.body, now: now)
        } catch {
            return .answer(refuse(401, error.reason))
        }
        // The payload is parsed into values only when the event id reads it; otherwise checking
        // that it is JSON is enough here (mapping parses it after the answer).
        let body: Value
        if source.eventIdReadsBody {
            guard let parsed = try? Value.parseJSON(Data(request.body)) else { return .answer(refuse(400, "body is not JSON")) }
            body = parsed
        } else {
            guard (try? JSONSerialization.jsonObject(with: Data(request.body), options: [.fragmentsAllowed])) != nil else {
                return .answer(refuse(400, "body is not JSON"))
            }
            body = .null
        }
        let sha = Crypto.sha256Hex(request.body)
        let id = source.deliveryId(body: body, headers: request.headers, sha256: sha, now: now)
        let kept = request.headers.filter { !["authorization", "cookie"].contains($0.key) }
        if overloaded(now: now) { return .answer(Self.busy) }
        return .store(Delivery(source: name, eventId: id, receivedAt: now, headers: kept, body: request.body))
    }
}
