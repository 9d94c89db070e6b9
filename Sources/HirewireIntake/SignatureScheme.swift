import Foundation
import HirewireLanguage

/// How a source proves its deliveries (flow language section 7): Standard Webhooks, a
/// configurable HMAC-SHA256, or a vendor preset. Several secrets may be active (rotation).
public enum SignatureScheme: Sendable {
    case standardWebhooks(StandardWebhooks)
    case hmac(HMACSignature)
    /// Lever signs `token + triggeredAt` from the body and puts the hex digest in `signature`.
    case lever(secrets: [String])
    /// No verification (only for trusted networks; `validate` warns).
    case none

    /// Greenhouse: `Signature: sha256 <hex>` over the raw body.
    public static func greenhouse(_ secrets: [String]) -> SignatureScheme {
        .hmac(HMACSignature(secrets: secrets, header: "Signature", prefix: "sha256 ", encoding: .hex))
    }

    /// Ashby: `Ashby-Signature: sha256=<hex>` over the raw body.
    public static func ashby(_ secrets: [String]) -> SignatureScheme {
        .hmac(HMACSignature(secrets: secrets, header: "Ashby-Signature", prefix: "sha256=", encoding: .hex))
    }

    /// Workable: `X-Workable-Signature: <hex>` over the raw body.
    public static func workable(_ secrets: [String]) -> SignatureScheme {
        .hmac(HMACSignature(secrets: secrets, header: "X-Workable-Signature", prefix: "", encoding: .hex))
    }

    /// Verifies a delivery. `headers` have lower-case names; `body` is the raw bytes.
    public func verify(headers: [String: String], body: [UInt8], now: Date) throws(SignatureFailure) {
        switch self {
        case .standardWebhooks(let scheme):
            try scheme.verify(id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"],
                              body: body, now: now)
        case .hmac(let scheme):
            try scheme.verify(headers: headers, body: body, now: now)
        case .lever(let secrets):
            guard case .object(let o)? = try? Value.parseJSON(Data(body)),
                  let token = o["token"]?.stringValue, let signature = o["signature"]?.stringValue else {
                throw SignatureFailure("Lever deliveries carry token, triggeredAt and signature in the body; they are missing")
            }
            let triggered = o["triggeredAt"]?.displayString ?? ""
            let content = Array((token + triggered).utf8)
            let offered = Array(signature.lowercased().utf8)
            for secret in secrets where Crypto.constantTimeEqual(Array(Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), data: content)).utf8), offered) {
                return
            }
            throw SignatureFailure("the body's signature does not match an active secret")
        case .none:
            return
        }
    }
}

/// A configurable HMAC-SHA256 scheme: which header, what prefix, hex or base64, and what is
/// signed (the body, or `timestamp.body` with a timestamp header checked against a tolerance).
public struct HMACSignature: Sendable {
    public enum Encoding: String, Sendable { case hex, base64 }

    public var secrets: [String]
    public var header: String
    public var prefix: String
    public var encoding: Encoding
    /// When set, the signed content is `<timestamp>.<body>` and the timestamp must be fresh.
    public var timestampHeader: String?
    public var tolerance: TimeInterval

    public init(secrets: [String], header: String, prefix: String = "", encoding: Encoding = .hex,
                timestampHeader: String? = nil, tolerance: TimeInterval = 300) {
        self.secrets = secrets
        self.header = header
        self.prefix = prefix
        self.encoding = encoding
        self.timestampHeader = timestampHeader
        self.tolerance = tolerance
    }

    /// The header value a sender attaches.
    public func sign(secret: String, body: [UInt8], timestamp: String? = nil) -> String {
        let content = timestamp.map { Array("\($0).".utf8) + body } ?? body
        let mac = Crypto.hmacSHA256(key: Array(secret.utf8), data: content)
        return prefix + (encoding == .hex ? Crypto.hex(mac) : Data(mac).base64EncodedString())
    }

    func verify(headers: [String: String], body: [UInt8], now: Date) throws(SignatureFailure) {
        guard let value = headers[header.lowercased()], !value.isEmpty else { throw SignatureFailure("missing \(header) header") }
        guard value.hasPrefix(prefix) else { throw SignatureFailure("\(header) does not start with '\(prefix)'") }
        var timestamp: String?
        if let name = timestampHeader {
            guard let t = headers[name.lowercased()], let seconds = Double(t), seconds == seconds.rounded() else {
                throw SignatureFailure("missing or malformed \(name) header")
            }
            guard abs(now.timeIntervalSince1970 - seconds) <= tolerance else {
                throw SignatureFailure("\(name) is outside the \(Int(tolerance))s tolerance")
            }
            timestamp = t
        }
        let offered = String(value.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        let offeredBytes: [UInt8]
        switch encoding {
        case .hex: offeredBytes = Array(offered.lowercased().utf8)
        case .base64:
            guard let decoded = Data(base64Encoded: offered) else { throw SignatureFailure("\(header) is not base64") }
            offeredBytes = [UInt8](decoded)
        }
        let content = timestamp.map { Array("\($0).".utf8) + body } ?? body
        for secret in secrets {
            let mac = Crypto.hmacSHA256(key: Array(secret.utf8), data: content)
            let expected = encoding == .hex ? Array(Crypto.hex(mac).utf8) : mac
            if Crypto.constantTimeEqual(expected, offeredBytes) { return }
        }
        throw SignatureFailure("\(header) does not match an active secret")
    }
}

extension SignatureScheme {
    /// The headers a sender attaches to `body` under this scheme's first secret (for
    /// `hirewire sign` and `send`). Lever signs fields inside the body, so it gives none.
    public func headers(body: [UInt8], id: String, timestamp: Date) -> [(String, String)] {
        let seconds = String(Int(timestamp.timeIntervalSince1970))
        switch self {
        case .standardWebhooks(let scheme):
            guard let secret = scheme.secrets.first, let signature = StandardWebhooks.sign(secret: secret, id: id, timestamp: seconds, body: body) else { return [] }
            return [("webhook-id", id), ("webhook-timestamp", seconds), ("webhook-signature", signature)]
        case .hmac(let scheme):
            guard let secret = scheme.secrets.first else { return [] }
            var out = [(scheme.header, scheme.sign(secret: secret, body: body, timestamp: scheme.timestampHeader == nil ? nil : seconds))]
            if let name = scheme.timestampHeader { out.append((name, seconds)) }
            return out
        case .lever, .none:
            return []
        }
    }

    /// The body a sender posts: unchanged, except that Lever's in-body `signature` is computed
    /// from its `token` and `triggeredAt` under the first secret.
    public func signedBody(_ body: [UInt8]) -> [UInt8] {
        guard case .lever(let secrets) = self, let secret = secrets.first,
              case .object(var fields)? = try? Value.parseJSON(Data(body)), let token = fields["token"]?.stringValue else { return body }
        let content = Array((token + (fields["triggeredAt"]?.displayString ?? "")).utf8)
        fields["signature"] = .string(Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), data: content)))
        return Array(Value.object(fields).jsonString(pretty: true).utf8)
    }
}
