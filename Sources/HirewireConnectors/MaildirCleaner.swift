import Foundation

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
            return wanted.contains { containsAddress(recipients, $0) }
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

    /// Whether `address` stands in `text` as a whole address: `ada@example.com` is not in
    /// `nada@example.com` nor in `ada@example.com.au`.
    static func containsAddress(_ text: String, _ address: String) -> Bool {
        let bytes = Array(text.utf8), needle = Array(address.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        func partOfAddress(_ b: UInt8) -> Bool {
            (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 46 || b == 45 || b == 95 || b == 43 || b == 37
        }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            guard bytes[start..<(start + needle.count)].elementsEqual(needle) else { continue }
            func at(_ i: Int) -> UInt8 { i >= 0 && i < bytes.count ? bytes[i] : 32 }
            let end = start + needle.count
            // A full stop right after it ends a sentence, not the address, unless more follows.
            let ends = !partOfAddress(at(end)) || (at(end) == 46 && !partOfAddress(at(end + 1)))
            if !partOfAddress(at(start - 1)), ends { return true }
        }
        return false
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
