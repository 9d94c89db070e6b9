import Foundation
import HirewireIntake

/// An email as RFC 5322 / MIME text: text and optional HTML as multipart/alternative, UTF-8
/// bodies in base64, non-ASCII headers as encoded words, and a Message-ID derived from the
/// action's idempotency key (so a retried send is recognisable as the same message).
public struct MIMEMessage: Sendable {
    public var from: String
    public var to: [String]
    public var cc: [String] = []
    public var replyTo: String?
    public var subject: String
    public var text: String
    public var html: String?
    public var idempotencyKey: String
    public var date: Date

    public init(from: String, to: [String], cc: [String] = [], replyTo: String?, subject: String, text: String, html: String?,
                idempotencyKey: String, date: Date) {
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.idempotencyKey = idempotencyKey
        self.date = date
    }

    /// `<hash@domain>`: the same key always gives the same id.
    public var messageId: String {
        let domain = MIMEMessage.address(in: from).split(separator: "@").last.map(String.init) ?? "hirewire.local"
        return "<\(Crypto.sha256Hex(Array(idempotencyKey.utf8)).prefix(32))@\(domain)>"
    }

    /// The bare address of `Name <a@b>` or `a@b`.
    public static func address(in mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
            return String(mailbox[mailbox.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        }
        return mailbox.trimmingCharacters(in: .whitespaces)
    }

    /// The full message text with CRLF line ends.
    public func rendered() -> String {
        var lines = [
            "From: \(Self.header(from))",
            "To: \(to.map(Self.header).joined(separator: ", "))",
        ]
        if !cc.isEmpty { lines.append("Cc: \(cc.map(Self.header).joined(separator: ", "))") }
        if let replyTo { lines.append("Reply-To: \(Self.header(replyTo))") }
        lines += [
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc2822(date))",
            "Message-ID: \(messageId)",
            "MIME-Version: 1.0",
        ]
        let textPart = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", Self.base64Lines(text)]
        if let html {
            let boundary = "hirewire-" + String(Crypto.sha256Hex(Array((idempotencyKey + "boundary").utf8)).prefix(24))
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines += ["", "This is a multipart message in MIME format.", "--\(boundary)"] + textPart
            lines += ["--\(boundary)", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", Self.base64Lines(html)]
            lines.append("--\(boundary)--")
        } else {
            lines += textPart
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A header value: ASCII as is (with line breaks removed), otherwise an RFC 2047 word;
    /// a mailbox keeps its `<address>` outside the encoded display name.
    static func header(_ value: String) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.allSatisfy(\.isASCII) { return flat }
        if let open = flat.lastIndex(of: "<") {
            let name = flat[..<open].trimmingCharacters(in: .whitespaces)
            return "\(encodedWord(name)) \(flat[open...])"
        }
        return encodedWord(flat)
    }

    static func encodedWord(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return flat.allSatisfy(\.isASCII) ? flat : "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        var lines: [Substring] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(encoded[index..<end])
            index = end
        }
        return lines.joined(separator: "\r\n")
    }

    static func rfc2822(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
