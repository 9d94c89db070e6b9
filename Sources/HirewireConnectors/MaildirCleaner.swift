import Foundation
import HirewireStore

/// Removes mail from the local Maildir the email connector writes when no SMTP server is
/// configured: the messages sent to an erased candidate, and those older than
/// `retention.personal_data`.
public enum MaildirCleaner {
    static let folders = ["new", "cur", "tmp"]

    /// Deletes every message whose `To`, `Cc` or `Bcc` header names one of `addresses`
    /// (compared without regard to case); returns how many went.
    public static func remove(addressedTo addresses: [String], in maildir: String) -> Int {
        let wanted = addresses.map { $0.lowercased() }.filter { !$0.isEmpty }
        guard !wanted.isEmpty else { return 0 }
        return remove(in: maildir) { path, _ in
            guard let header = headerBlock(path) else { return false }
            let recipients = recipientLines(header)
            return wanted.contains { EmailAddress.stands(in: recipients, $0) }
        }
    }

    /// Deletes every message last written before `date`; returns how many went.
    public static func remove(olderThan date: Date, in maildir: String) -> Int {
        remove(in: maildir) { _, modified in modified.map { $0 < date } ?? false }
    }

    private static func remove(in maildir: String, where matches: (String, Date?) -> Bool) -> Int {
        let fm = FileManager.default
        var removed = 0
        for folder in folders {
            let dir = (maildir as NSString).appendingPathComponent(folder)
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                let path = (dir as NSString).appendingPathComponent(name)
                let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date
                if matches(path, modified), (try? fm.removeItem(atPath: path)) != nil { removed += 1 }
            }
        }
        return removed
    }

    /// The header block of a message file (up to the first empty line), lowercased.
    static func headerBlock(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        let end = text.range(of: "\r\n\r\n") ?? text.range(of: "\n\n")
        return String(text[..<(end?.lowerBound ?? text.endIndex)]).lowercased()
    }

    /// The recipient headers' text, folded lines joined (a long `To:` continues on the next line).
    static func recipientLines(_ header: String) -> String {
        var out = ""
        var inRecipients = false
        for line in header.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            if line.first == " " || line.first == "\t" {
                if inRecipients { out += " " + line }
                continue
            }
            inRecipients = line.hasPrefix("to:") || line.hasPrefix("cc:") || line.hasPrefix("bcc:")
            if inRecipients { out += "\n" + line }
        }
        return out
    }
}
