import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import HirewireIntake
import HirewireTestSupport

/// The libmicrohttpd server on 127.0.0.1 with real clients.
final class HTTPServerTests: XCTestCase {
    func request(_ port: UInt16, _ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) async throws -> (Int, String) {
        var request = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        if let body { request.httpBody = Data(body) }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func testRequestsReachTheHandlerWithHeadersAndBody() async throws {
        let server = try HTTPServer(port: 0) { request in
            .json(202, #"{"method": "\#(request.method)", "path": "\#(request.path)", "bytes": \#(request.body.count), "sig": "\#(request.headers["x-sig"] ?? "")"}"#)
        }
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)
        let (status, body) = try await request(server.port, "POST", "/hooks/greenhouse", body: Array(repeating: 65, count: 5000), headers: ["X-Sig": "abc"])
        XCTAssertEqual(status, 202)
        XCTAssertEqual(body, #"{"method": "POST", "path": "/hooks/greenhouse", "bytes": 5000, "sig": "abc"}"#)
        let (getStatus, _) = try await request(server.port, "GET", "/healthz")
        XCTAssertEqual(getStatus, 202)
    }

    /// A deferred handler answers later from another thread; the connection waits suspended, and
    /// many such requests are in flight at once on two server threads.
    func testDeferredAnswersComeFromAnotherThreadWhileManyWait() async throws {
        let held = HeldResponders()
        let server = try HTTPServer(port: 0) { request, responder in
            held.add(request.path, responder)
        }
        defer { server.stop() }
        let port = server.port
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        let session = URLSession(configuration: configuration)
        async let answers = withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<20 {
                group.addTask {
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/r\(i)")!)
                    request.httpMethod = "POST"
                    request.httpBody = Data([1])
                    let (data, response) = try await session.data(for: request)
                    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
                }
            }
            var out: [(Int, String)] = []
            for try await answer in group { out.append(answer) }
            return out
        }
        // All twenty are suspended at once (more than the two server threads could hold).
        for _ in 0..<500 where held.count < 20 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(held.count, 20)
        Thread.detachNewThread { held.answerAll() }
        let all = try await answers
        XCTAssertEqual(all.count, 20)
        XCTAssertEqual(Set(all.map(\.1)), Set((0..<20).map { #"{"path": "/r\#($0)"}"# }))
        XCTAssertTrue(all.allSatisfy { $0.0 == 202 })
    }

    func testOversizedBodyIs413AndNeverReachesTheHandler() async throws {
        var limits = HTTPLimits()
        limits.maxBody = 1000
        let seen = LockedCounter()
        let server = try HTTPServer(port: 0, limits: limits) { _ in
            seen.increment()
            return .json(202, "{}")
        }
        defer { server.stop() }
        let (status, _) = try await request(server.port, "POST", "/hooks/x", body: Array(repeating: 65, count: 5000))
        XCTAssertEqual(status, 413)
        XCTAssertEqual(seen.value, 0)
        let (ok, _) = try await request(server.port, "POST", "/hooks/x", body: Array(repeating: 65, count: 900))
        XCTAssertEqual(ok, 202)
        XCTAssertEqual(seen.value, 1)
    }

    func testSlowClientIsCutOff() throws {
        var limits = HTTPLimits()
        limits.timeoutSeconds = 1
        let server = try HTTPServer(port: 0, limits: limits) { _ in .json(200, "{}") }
        defer { server.stop() }
        // Half a request, then silence: the server must close the connection.
        let loris = slowLorisClient(port: server.port, partial: "POST /hooks/x HTTP/1.1\r\nHost: x\r\n")
        XCTAssertTrue(loris.closed, "the server should close the idle connection")
        XCTAssertLessThan(loris.seconds, 4)
    }
}

final class LockedCounter: @unchecked Sendable {
    // @unchecked: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Responders held back by a test until it answers them all.
final class HeldResponders: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [(String, HTTPResponder)] = []
    func add(_ path: String, _ responder: HTTPResponder) { lock.lock(); items.append((path, responder)); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
    func answerAll() {
        lock.lock()
        let all = items
        lock.unlock()
        for (path, responder) in all { responder.respond(.json(202, #"{"path": "\#(path)"}"#)) }
    }
}
