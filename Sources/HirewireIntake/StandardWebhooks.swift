import Foundation

/// Why a delivery's signature was refused (logged, counted, shown by `events --rejected`).
public struct SignatureFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The Standard Webhooks scheme: `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// headers; the signed content is `id.timestamp.body` (the raw bytes), the key is the base64 part
/// of a `whsec_` secret, and the signature header holds space-separated `v1,<base64>` entries,
/// any one of which may match. Timestamps are whole Unix seconds within the tolerance of now.
public struct StandardWebhooks: Sendable {
    /// Every secret currently accepted (rotation: old and new at once).
    public var secrets: [String]
    public var tolerance: TimeInterval

    public init(secrets: [String], tolerance: TimeInterval = 300) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// The key bytes of a secret, with or without its `whsec_` prefix; nil when not base64.
    public static func key(_ secret: String) -> [UInt8]? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        return Data(base64Encoded: encoded).map { [UInt8]($0) }
    }

    /// The `v1,<base64>` signature of a delivery.
    public static func sign(secret: String, id: String, timestamp: String, body: [UInt8]) -> String? {
        guard let key = key(secret) else { return nil }
        let content = Array("\(id).\(timestamp).".utf8) + body
        return "v1," + Data(Crypto.hmacSHA256(key: key, data: content)).base64EncodedString()
    }

    /// Verifies a delivery; throws the reason it is refused.
    public func verify(id: String?, timestamp: String?, signature: String?, body: [UInt8], now: Date) throws(SignatureFailure) {
        guard let id, !id.isEmpty else { throw SignatureFailure("missing webhook-id") }
        guard let timestamp, !timestamp.isEmpty else { throw SignatureFailure("missing webhook-timestamp") }
        guard timestamp.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int64(timestamp) else {
            throw SignatureFailure("webhook-timestamp '\(timestamp)' is not whole Unix seconds")
        }
        let skew = now.timeIntervalSince1970 - Double(seconds)
        guard abs(skew) <= tolerance else {
            throw SignatureFailure("webhook-timestamp is \(Int(abs(skew)))s \(skew > 0 ? "old" : "in the future"); tolerance is \(Int(tolerance))s")
        }
        guard let signature, !signature.isEmpty else { throw SignatureFailure("missing webhook-signature") }
        let offered = signature.split(separator: " ").compactMap { entry -> [UInt8]? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let bytes = Data(base64Encoded: String(parts[1])) else { return nil }
            return [UInt8](bytes)
        }
        guard !offered.isEmpty else { throw SignatureFailure("webhook-signature has no v1 signature") }
        let content = Array("\(id).\(timestamp).".utf8) + body
        for secret in secrets {
            guard let key = Self.key(secret) else { continue }
            let expected = Crypto.hmacSHA256(key: key, data: content)
            if offered.contains(where: { Crypto.constantTimeEqual($0, expected) }) { return }
        }
        throw SignatureFailure("no webhook-signature matches an active secret")
    }
}
