import Foundation
import XCTest

/// A free TCP port on 127.0.0.1 (bound, read, released).
public func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: bound.sin_port)
}

/// Runs a tool and returns its status.
@discardableResult
public func runTool(_ tool: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// The real SMTP server of the tests (Debian's python3-aiosmtpd) on 127.0.0.1.
public final class SMTPSink {
    public let port: UInt16
    public let maildir: String
    let process = Process()

    public init(port: UInt16 = freePort(), maildir: String, tls: (cert: String, key: String)? = nil, auth: String? = nil,
                delay: Double? = nil) throws {
        self.port = port
        self.maildir = maildir
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("smtp_sink.py").path
        // Debian's python3 has the aiosmtpd package (scripts/dev installs python3-aiosmtpd).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        var arguments = [script, String(port), maildir]
        if let tls { arguments += ["--tls", tls.cert, tls.key] }
        if let auth { arguments += ["--auth", auth] }
        if let delay { arguments += ["--delay", String(delay)] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        for _ in 0..<100 where !String(decoding: seen, as: UTF8.self).contains("ready") {
            seen += output.fileHandleForReading.availableData
        }
        guard String(decoding: seen, as: UTF8.self).contains("ready") else {
            process.terminate()
            throw SinkError(message: "the SMTP sink did not start (is python3-aiosmtpd installed?)")
        }
    }

    /// Every message received, as text.
    public var messages: [String] {
        let folder = maildir + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// SIGKILL: a process started from a Swift concurrency thread inherits that thread's blocked
    /// signals, SIGTERM included.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

public struct SinkError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A temporary folder removed by the test's teardown.
public func temporaryFolder(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "hirewire-\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}


/// A file next to this one (test plugins and servers).
public func supportFile(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name).path
}

/// The repository root.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A decoded base64 MIME part (the connector encodes bodies in base64).
public func decodedParts(_ message: String) -> [String] {
    let blocks = message.components(separatedBy: "Content-Transfer-Encoding: base64")
    return blocks.dropFirst().compactMap { block -> String? in
        let normalized = block.replacingOccurrences(of: "\r\n", with: "\n")
        let body = normalized.components(separatedBy: "\n\n").dropFirst().first ?? ""
        let encoded = body.split(whereSeparator: \.isNewline).prefix { !$0.hasPrefix("--") }.joined()
        return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A slow-loris client: connects to 127.0.0.1:`port`, sends half a request, then waits in silence.
/// Returns whether the server closed the connection, and after how many seconds (waits at most 5).
public func slowLorisClient(port: UInt16, partial: String = "POST /hooks/x HTTP/1.1\r\nHost: x\r\nContent-Le") -> (closed: Bool, seconds: Double) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return (false, 0) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return (false, 0) }
    _ = partial.withCString { send(fd, $0, strlen($0), 0) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let started = Date()
    var buffer = [UInt8](repeating: 0, count: 64)
    let received = recv(fd, &buffer, buffer.count, 0)
    return (received == 0, Date().timeIntervalSince(started))
}
