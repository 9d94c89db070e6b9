import CMicroHTTPD
import Foundation
import Synchronization

/// An HTTP request as the intake sees it: headers with lower-case names, the raw body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: [UInt8]
    /// The client's address as the socket gives it (`127.0.0.1`, `::1`); `-` when unknown.
    public var peer: String = "-"
}

/// An HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }
}

/// Limits that keep a slow or hostile client from holding the server.
public struct HTTPLimits: Sendable {
    /// Largest accepted body; larger requests get 413 without the body being read further.
    public var maxBody: Int = 1 << 20
    /// Bytes per connection for headers and buffers (bounds header size).
    public var connectionMemory: Int = 32 * 1024
    public var maxConnections: Int = 1024
    /// Seconds a connection may sit idle (slow-loris clients are cut off).
    public var timeoutSeconds: Int = 10
    public var threads: Int = 2
    public init() {}
}

/// A small HTTP server on libmicrohttpd: libmicrohttpd parses HTTP, owns the sockets and the
/// threads; this class turns its callbacks into `HTTPRequest → HTTPResponse` calls.
///
/// Thread rule: the handler runs on libmicrohttpd's worker threads, several at once, so it must be
/// `Sendable`; the daemon handle is only started and stopped by the owner, under `lock`.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// A handler that answers later, from any thread, through the responder (the connection is
    /// suspended meanwhile, so no server thread waits).
    public typealias DeferredHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    let handler: Handler?
    let deferredHandler: DeferredHandler?
    /// Told of each request the server answers 413 itself (its body is not read, so no handler
    /// sees it): the request's method, path, headers and peer, with an empty body.
    let oversized: (@Sendable (HTTPRequest) -> Void)?
    /// Requests handed to the deferred handler and not yet answered.
    let suspended = Mutex<[ObjectIdentifier: HTTPResponder]>([:])
    let limits: HTTPLimits
    private var daemon: OpaquePointer?
    private let lock = NSLock()
    /// C copies of the TLS key and certificate, owned by the server.
    private var tlsStrings: [UnsafeMutablePointer<CChar>] = []
    /// The port bound (the one asked for, or the one the system chose for port 0).
    public private(set) var port: UInt16 = 0

    /// Starts listening on `port` (0 picks a free one). With `tls` (PEM key and certificate) the
    /// server speaks HTTPS, TLS 1.2 or newer only.
    public convenience init(port: UInt16, limits: HTTPLimits = HTTPLimits(), tls: (key: String, certificate: String)? = nil,
                            oversized: (@Sendable (HTTPRequest) -> Void)? = nil, handler: @escaping Handler) throws {
        try self.init(port: port, limits: limits, tls: tls, handler: handler, deferred: nil, oversized: oversized)
    }

    /// Starts a server whose handler answers later through an `HTTPResponder`.
    public convenience init(port: UInt16, limits: HTTPLimits = HTTPLimits(), tls: (key: String, certificate: String)? = nil,
                            oversized: (@Sendable (HTTPRequest) -> Void)? = nil, deferred: @escaping DeferredHandler) throws {
        try self.init(port: port, limits: limits, tls: tls, handler: nil, deferred: deferred, oversized: oversized)
    }

    private init(port: UInt16, limits: HTTPLimits, tls: (key: String, certificate: String)?, handler: Handler?, deferred: DeferredHandler?,
                 oversized: (@Sendable (HTTPRequest) -> Void)?) throws {
        self.handler = handler
        self.deferredHandler = deferred
        self.oversized = oversized
        self.limits = limits
        let context = Unmanaged.passUnretained(self).toOpaque()
        let threads = UInt32(max(1, limits.threads))
        // The key and certificate stay allocated as long as the daemon runs (freed after it stops).
        let key = tls.flatMap { strdup($0.key) }, certificate = tls.flatMap { strdup($0.certificate) }
        tlsStrings = [key, certificate].compactMap { $0 }
        let started = hirewire_mhd_start(port, threads, httpAccess, context, httpCompleted, UInt32(limits.maxConnections),
                                         UInt32(limits.timeoutSeconds), limits.connectionMemory, key, certificate, httpServerLog)
        guard let started else {
            tlsStrings.forEach { free($0) }
            tlsStrings = []
            throw HTTPServerError(tls == nil ? "cannot listen on port \(port) (in use, or not allowed)"
                                             : "cannot listen on port \(port) with TLS (port in use, or the key and certificate do not load)")
        }
        daemon = started
        self.port = hirewire_mhd_port(started)
    }

    /// Stops accepting, lets in-flight requests finish, and closes the sockets.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard let daemon else { return }
        _ = MHD_quiesce_daemon(daemon)
        // Suspended requests are answered first (libmicrohttpd cannot stop with them pending);
        // their handlers are still running, so this waits a bounded while for them.
        let deadline = Date().addingTimeInterval(10)
        while !suspended.withLock({ $0.isEmpty }) && Date() < deadline { usleep(1_000) }
        // A handler that never answered: its client gets 503 rather than the process aborting.
        for responder in suspended.withLock({ Array($0.values) }) {
            responder.respond(.json(503, #"{"error":"server stopping"}"#, headers: [("Retry-After", "5")]))
        }
        MHD_stop_daemon(daemon)
        self.daemon = nil
        tlsStrings.forEach { free($0) }
        tlsStrings = []
    }

    deinit { stop() }
}

/// A startup failure of the server.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ message: String) { description = message }
}

/// One request in progress: headers seen, body collected so far, and for a deferred handler the
/// answer once it is ready.
final class RequestState: @unchecked Sendable {
    // @unchecked: headers, body and tooLarge are used by libmicrohttpd's thread for this
    // connection only; `answer` is guarded by `lock` (written by the responder's thread).
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var tooLarge = false
    /// Whether the server's oversized observer was told of this request.
    var reportedTooLarge = false
    var dispatched = false
    let lock = NSLock()
    var answer: HTTPResponse?
}

/// Answers one suspended request, once, from any thread.
public final class HTTPResponder: Sendable {
    private let server: HTTPServer
    private let state: RequestState
    // Sendable: the connection pointer is only passed back to libmicrohttpd's resume call, which
    // may be made from any thread.
    private nonisolated(unsafe) let connection: OpaquePointer?

    init(server: HTTPServer, state: RequestState, connection: OpaquePointer?) {
        self.server = server
        self.state = state
        self.connection = connection
    }

    /// Sends `response` (later calls are ignored).
    public func respond(_ response: HTTPResponse) {
        state.lock.lock()
        let first = state.answer == nil
        if first { state.answer = response }
        state.lock.unlock()
        guard first else { return }
        MHD_resume_connection(connection)
        server.suspended.withLock { $0[ObjectIdentifier(self)] = nil }
    }
}

/// libmicrohttpd's own messages (a port in use, a client that broke off a TLS handshake) as
/// JSON log lines like every other.
private func httpServerLog(_ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    let text = String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return }
    JSONLog.write("warn", "http server", ["detail": .string(text)])
}

private func collectHeader(_ context: UnsafeMutableRawPointer?, _ kind: MHD_ValueKind, _ key: UnsafePointer<CChar>?,
                           _ value: UnsafePointer<CChar>?) -> MHD_Result {
    guard let context, let key else { return MHD_Result.YES }
    let state = Unmanaged<RequestState>.fromOpaque(context).takeUnretainedValue()
    state.headers[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? ""
    return MHD_Result.YES
}

private func send(_ connection: OpaquePointer?, _ response: HTTPResponse) -> MHD_Result {
    var body = response.body
    let created = body.withUnsafeMutableBytes { bytes in
        MHD_create_response_from_buffer(bytes.count, bytes.baseAddress, MHD_ResponseMemoryMode.RESPMEM_MUST_COPY)
    }
    guard let created else { return MHD_Result.NO }
    for (name, value) in response.headers { MHD_add_response_header(created, name, value) }
    let result = MHD_queue_response(connection, UInt32(response.status), created)
    MHD_destroy_response(created)
    return result
}

private func httpAccess(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ url: UnsafePointer<CChar>?,
                        _ method: UnsafePointer<CChar>?, _ version: UnsafePointer<CChar>?, _ uploadData: UnsafePointer<CChar>?,
                        _ uploadSize: UnsafeMutablePointer<Int>?, _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> MHD_Result {
    guard let cls, let state, let uploadSize else { return MHD_Result.NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    guard let pointer = state.pointee else {
        // First call: the headers are in. Refuse an announced oversized body before reading it.
        let request = RequestState()
        let opaque = Unmanaged.passRetained(request).toOpaque()
        state.pointee = opaque
        _ = MHD_get_connection_values(connection, MHD_ValueKind.HEADER_KIND, collectHeader, opaque)
        if let length = request.headers["content-length"].flatMap(Int.init), length > server.limits.maxBody {
            request.tooLarge = true
            return refuseOversized(server, request, connection, url, method)
        }
        return MHD_Result.YES
    }
    let request = Unmanaged<RequestState>.fromOpaque(pointer).takeUnretainedValue()
    if uploadSize.pointee > 0 {
        if !request.tooLarge, let uploadData {
            if request.body.count + uploadSize.pointee > server.limits.maxBody {
                request.tooLarge = true
                request.body = []
            } else {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: uploadSize.pointee) { bytes in
                    request.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: uploadSize.pointee))
                }
            }
        }
        uploadSize.pointee = 0
        return MHD_Result.YES
    }
    if request.tooLarge {
        return refuseOversized(server, request, connection, url, method)
    }
    if request.dispatched {
        // Resumed: the deferred handler's answer is ready.
        request.lock.lock()
        let answer = request.answer
        request.lock.unlock()
        return send(connection, answer ?? .json(500, #"{"error":"no answer"}"#))
    }
    let incoming = incomingRequest(request, connection, url, method)
    if let handler = server.handler { return send(connection, handler(incoming)) }
    guard let deferred = server.deferredHandler else { return MHD_Result.NO }
    request.dispatched = true
    let responder = HTTPResponder(server: server, state: request, connection: connection)
    server.suspended.withLock { $0[ObjectIdentifier(responder)] = responder }
    MHD_suspend_connection(connection)
    deferred(incoming, responder)
    return MHD_Result.YES
}

/// The request as handlers see it: method, path, headers, body so far and the peer's address.
private func incomingRequest(_ request: RequestState, _ connection: OpaquePointer?, _ url: UnsafePointer<CChar>?,
                             _ method: UnsafePointer<CChar>?) -> HTTPRequest {
    var address = [CChar](repeating: 0, count: 64)
    hirewire_mhd_peer(connection, &address, address.count)
    let peer = String(decoding: address.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return HTTPRequest(method: method.map { String(cString: $0) } ?? "GET", path: url.map { String(cString: $0) } ?? "/",
                       headers: request.headers, body: request.body, peer: peer.isEmpty ? "-" : peer)
}

/// Answers 413 for a body over the limit (announced, or found while reading) and tells the
/// server's observer once per request, so the refusal is recorded like any other.
private func refuseOversized(_ server: HTTPServer, _ request: RequestState, _ connection: OpaquePointer?, _ url: UnsafePointer<CChar>?,
                             _ method: UnsafePointer<CChar>?) -> MHD_Result {
    if !request.reportedTooLarge {
        request.reportedTooLarge = true
        request.body = []
        server.oversized?(incomingRequest(request, connection, url, method))
    }
    return send(connection, .json(413, #"{"error":"body over \#(server.limits.maxBody) bytes"}"#))
}

private func httpCompleted(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?,
                           _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ reason: MHD_RequestTerminationCode) {
    guard let state, let pointer = state.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(pointer).release()
    state.pointee = nil
}
