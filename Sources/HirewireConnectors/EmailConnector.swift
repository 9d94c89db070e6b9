import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireStore

/// `email`: over SMTP when `connectors.email.smtp.url` resolves (e.g. `env.SMTP_URL`), otherwise
/// into a Maildir (`.hirewire/mail/`) any mail client opens. Either way the Message-ID comes from
/// the idempotency key, and in the Maildir a retried message replaces its earlier copy.
public struct EmailConnector: Connector {
    public let name = "email"
    public let concurrency = 4
    let environment: ConnectorEnvironment
    let timeout: Double

    public init(environment: ConnectorEnvironment, timeout: Double = 30) {
        self.environment = environment
        self.timeout = timeout
    }

    /// Where mail goes without SMTP.
    public var maildir: String { (environment.root as NSString).appendingPathComponent(".hirewire/mail") }
    var smtpURL: String? { environment.setting("email", "smtp", "url") }
    var from: String { environment.setting("email", "smtp", "from") ?? environment.setting("email", "from") ?? "Hirewire <hirewire@localhost>" }

    /// The message an action stands for.
    public func message(for item: OutboxItem, now: Date = Date()) throws(ConnectorFailure) -> MIMEMessage {
        let args = item.action.arguments
        let to = Self.addresses(args["to"])
        guard !to.isEmpty else { throw ConnectorFailure("email has no recipient (to is empty)", retryable: false) }
        guard let subject = args["subject"].stringValue, let text = args["text"].stringValue else {
            throw ConnectorFailure("email needs a subject and a text", retryable: false)
        }
        return MIMEMessage(from: from, to: to, cc: Self.addresses(args["cc"]), replyTo: args["reply_to"].stringValue.flatMap { $0.isEmpty ? nil : $0 },
                           subject: subject, text: text, html: args["html"].stringValue, idempotencyKey: item.action.idempotencyKey, date: now)
    }

    static func addresses(_ value: Value) -> [String] {
        if let list = value.arrayValue { return list.compactMap(\.stringValue).filter { !$0.isEmpty } }
        return (value.stringValue ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func execute(_ item: OutboxItem) async throws(ConnectorFailure) -> Value {
        let message = try message(for: item)
        guard let url = smtpURL else {
            return try deliverToMaildir(message)
        }
        let recipients = (message.to + message.cc).map(MIMEMessage.address(in:))
        do {
            let caFile = environment.setting("email", "smtp", "ca_file").map { $0.hasPrefix("/") ? $0 : (environment.root as NSString).appendingPathComponent($0) }
            try CurlSMTP.send(url: url, from: MIMEMessage.address(in: message.from), recipients: recipients, message: message.rendered(),
                              timeout: timeout, caFile: caFile)
        } catch {
            // 5xx replies are permanent (bad mailbox, policy); the rest (4xx, connection, TLS) retry.
            throw ConnectorFailure("SMTP: \(error.message)", retryable: !(500..<600).contains(error.smtpStatus))
        }
        return .object(["message_id": .string(message.messageId), "transport": "smtp"])
    }

    /// Creates the Maildir's folders when mail goes there (no SMTP server configured), so that
    /// it can be opened before the first message (quiet hours may hold that one till morning).
    public func prepareMaildir() {
        guard smtpURL == nil else { return }
        for folder in ["tmp", "new", "cur"] {
            try? FileManager.default.createDirectory(atPath: (maildir as NSString).appendingPathComponent(folder), withIntermediateDirectories: true)
        }
    }

    func deliverToMaildir(_ message: MIMEMessage) throws(ConnectorFailure) -> Value {
        let fm = FileManager.default
        let unique = "\(Int(message.date.timeIntervalSince1970)).\(message.messageId.dropFirst().prefix(32)).hirewire"
        do {
            for folder in ["tmp", "new", "cur"] {
                try fm.createDirectory(atPath: (maildir as NSString).appendingPathComponent(folder), withIntermediateDirectories: true)
            }
            // The same message id keeps one file, whatever its time prefix: a retry replaces it.
            let id = String(message.messageId.dropFirst().prefix(32))
            let newDir = (maildir as NSString).appendingPathComponent("new")
            for existing in (try? fm.contentsOfDirectory(atPath: newDir)) ?? [] where existing.contains(".\(id).") {
                try? fm.removeItem(atPath: (newDir as NSString).appendingPathComponent(existing))
            }
            let temporary = (maildir as NSString).appendingPathComponent("tmp/\(unique)")
            try Data(message.rendered().utf8).write(to: URL(fileURLWithPath: temporary), options: .atomic)
            let final = (newDir as NSString).appendingPathComponent(unique)
            if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
            try fm.moveItem(atPath: temporary, toPath: final)
            return .object(["message_id": .string(message.messageId), "transport": "maildir", "file": .string(final)])
        } catch {
            throw ConnectorFailure("cannot write to the Maildir \(maildir): \(error.localizedDescription)", retryable: true)
        }
    }
}
