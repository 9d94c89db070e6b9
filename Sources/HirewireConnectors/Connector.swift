import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireStore

/// Why an attempt failed, and whether trying again may help.
public struct ConnectorFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Timeouts, connection failures, 5xx and 429 are worth retrying; other 4xx and bad
    /// arguments are not.
    public var retryable: Bool
    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }
    public var description: String { message }

    /// The failure an HTTP status stands for (nil for 2xx).
    public static func http(_ status: Int, _ body: [UInt8], target: String) -> ConnectorFailure? {
        guard !(200..<300).contains(status) else { return nil }
        let text = String(decoding: body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        let retryable = status >= 500 || status == 429 || status == 408
        return ConnectorFailure("\(target) answered \(status)\(text.isEmpty ? "" : ": \(text)")", retryable: retryable)
    }
}

/// A way out of Hirewire: email, Slack, an HTTP endpoint, a plugin. Connectors receive actions
/// whose arguments are already rendered, with their idempotency key, and either deliver them or
/// say why not. They may be called again with the same key after a crash or an unknown outcome.
public protocol Connector: Sendable {
    /// The name flows use (`email`, `slack`, a plugin's name).
    var name: String { get }
    /// Most concurrent attempts this connector takes (plugins and rate-limited APIs).
    var concurrency: Int { get }
    /// Delivers `item` (attempt `item.attempts + 1`); returns what the far side reported.
    func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value
}

extension Connector {
    public var concurrency: Int { 4 }
}

/// What connectors share: the project folder, settings from hirewire.yaml, the environment, the
/// store (tasks) and the SSRF rule.
public struct ConnectorEnvironment: Sendable {
    public var root: String
    public var settings: [String: Value]
    public var env: [String: String]
    public var allowPrivateNetworks: Bool

    public init(root: String, settings: [String: Value], env: [String: String], allowPrivateNetworks: Bool) {
        self.root = root
        self.settings = settings
        self.env = env
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    /// A setting that may be `env.NAME` (unset or empty counts as absent).
    public func resolve(_ value: Value) -> String? {
        guard let text = value.stringValue, !text.isEmpty else { return nil }
        if text.hasPrefix("env.") {
            let resolved = env[String(text.dropFirst(4))]
            return (resolved?.isEmpty ?? true) ? nil : resolved
        }
        return text
    }

    /// `connectors.NAME.path…` resolved.
    public func setting(_ connector: String, _ path: String...) -> String? {
        resolve(settings[connector]?.value(at: path) ?? .null)
    }
}
