import CCurl
import Foundation
import Synchronization

/// An outbound HTTP request.
public struct OutboundRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Seconds for the whole exchange.
    public var timeout: Double
    /// `host:port:address` to connect to without resolving again (the SSRF guard's pin).
    public var pin: String?

    public init(method: String = "POST", url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Double = 10, pin: String? = nil) {
        self.pin = pin
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What came back.
public struct OutboundResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
}

/// A transport failure (no HTTP status): connection refused, timeout, TLS, DNS.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    /// For SMTP: the server's last reply code, when there was one (5xx is permanent).
    public var smtpStatus: Int = 0
    /// Whether the request may have reached the server (a timeout after sending, for instance).
    public var timedOut: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
    public var description: String { "\(message) (curl \(code))" }
}

enum CurlGlobal {
    /// `curl_global_init` once, before any handle (it is not thread-safe itself).
    static let ready: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// One libcurl easy handle, reused across requests so connections stay alive.
///
/// Thread rule: one request at a time per client (libcurl handles are not shared between
/// threads); callers keep a client per thread or guard it with `lock`, which `perform` takes.
/// That is why it is `@unchecked Sendable`.
public final class CurlHTTPClient: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()

    public init() {
        _ = CurlGlobal.ready
        // curl_easy_init only fails when out of memory.
        handle = curl_easy_init()
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `request` and returns the response, or throws a `TransportError`.
    public func perform(_ request: OutboundRequest) throws(TransportError) -> OutboundResponse {
        lock.lock()
        defer { lock.unlock() }
        curl_easy_reset(handle)
        let sink = ResponseSink()
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // An empty Expect stops libcurl waiting for "100 Continue" before larger bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }
        var pins: UnsafeMutablePointer<curl_slist>?
        if let pin = request.pin { pins = curl_slist_append(pins, pin) }
        defer { curl_slist_free_all(pins) }
        let code: CURLcode = request.body.withUnsafeBufferPointer { body in
            hirewire_curl_set_string(handle, CURLOPT_URL, request.url)
            hirewire_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            hirewire_curl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
            hirewire_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 5) * 1000))
            hirewire_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if request.method == "HEAD" { hirewire_curl_set_long(handle, CURLOPT_NOBODY, 1) }
            hirewire_curl_set_slist(handle, CURLOPT_HTTPHEADER, headerList)
            if pins != nil { hirewire_curl_set_slist(handle, CURLOPT_RESOLVE, pins) }
            if !body.isEmpty || request.method == "POST" || request.method == "PUT" || request.method == "PATCH" {
                hirewire_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress))
                hirewire_curl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            }
            hirewire_curl_set_callback(handle, CURLOPT_WRITEFUNCTION, collectBody)
            hirewire_curl_set_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            throw TransportError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        return OutboundResponse(status: hirewire_curl_status(handle), body: sink.bytes)
    }
}

/// Collects a response body (touched only by the thread running `perform`).
final class ResponseSink {
    var bytes: [UInt8] = []
    /// Bodies beyond this are truncated (an error page does not need more).
    let limit = 1 << 20
}

private func collectBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let total = size * count
    if sink.bytes.count < sink.limit {
        data.withMemoryRebound(to: UInt8.self, capacity: total) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(total, sink.limit - sink.bytes.count))) }
    }
    return total
}

/// Idle libcurl handles kept for reuse, so outbound calls keep their connections alive.
public final class CurlPool: Sendable {
    public static let shared = CurlPool()
    private let idle = Mutex<[CurlHTTPClient]>([])

    /// Performs `request` on an idle handle (or a new one) and puts the handle back.
    public func perform(_ request: OutboundRequest) throws(TransportError) -> OutboundResponse {
        let client = idle.withLock { $0.popLast() } ?? CurlHTTPClient()
        defer { idle.withLock { if $0.count < 16 { $0.append(client) } } }
        return try client.perform(request)
    }
}
