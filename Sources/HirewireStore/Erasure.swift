import Foundation
import HirewireLanguage

/// What one erasure reaches, found before anything changes: `hirewire erase --candidate`
/// (one candidate), or the retention sweep (journeys that ended long enough ago).
public struct ErasureScope: Sendable, Equatable {
    /// The candidate being erased (their candidate-message rows go too); nil for retention.
    public var candidate: String?
    /// Journeys whose personal data goes (their rows stay, anonymous).
    public var journeys: [String]
    /// Applications whose events, deliveries, profiles and review items go.
    public var applications: [String]
    /// The candidate's email addresses, as their journeys and events gave them (used to find the
    /// mail written to them, and raw deliveries stored before deliveries named their application).
    public var emails: [String]
    /// Raw deliveries found by the candidate's id in their body (one no mapping has named: not
    /// mapped yet, or sent to review before its application was known), by sequence number.
    public var deliveries: [Int64]
    /// For retention: records received or written at or after this moment are left alone,
    /// whatever the scope names (an event that arrives while a sweep runs is never touched).
    public var before: Date?

    public init(candidate: String? = nil, journeys: [String] = [], applications: [String] = [], emails: [String] = [],
                deliveries: [Int64] = [], before: Date? = nil) {
        self.candidate = candidate
        self.journeys = journeys
        self.applications = applications
        self.emails = emails
        self.deliveries = deliveries
        self.before = before
    }

    public var isEmpty: Bool { journeys.isEmpty && applications.isEmpty && deliveries.isEmpty && candidate == nil }

    /// Whether `body` (a raw delivery, parsed) names candidate `id` at a key that says it is a
    /// candidate's (`candidate.id`, `candidate_id`, `candidateId`, `payload.application.candidate.id`),
    /// and the addresses standing beside it (keys holding `email`).
    public static func names(_ body: Value, candidate id: String) -> (found: Bool, emails: [String]) {
        var found = false
        var emails: [String] = []
        func walk(_ value: Value, path: String) {
            switch value {
            case .object(let members):
                let here = members.contains { key, v in v.idText == id && (key.lowercased().contains("candidate") || (key == "id" && path.contains("candidate"))) }
                if here {
                    found = true
                    for (key, v) in members where key.lowercased().contains("email") { collect(v) }
                }
                for (key, v) in members { walk(v, path: path + "." + key.lowercased()) }
            case .array(let items):
                for item in items { walk(item, path: path) }
            default:
                break
            }
        }
        func collect(_ value: Value) {
            switch value {
            case .string(let s) where s.contains("@"): if !emails.contains(s) { emails.append(s) }
            case .array(let items): items.forEach(collect)
            case .object(let members): members.values.forEach(collect)
            default: break
            }
        }
        walk(body, path: "")
        return (found, emails)
    }

    /// Adds `value`'s text to `list` once (ids may be stored as JSON numbers; an email address is
    /// a string).
    static func note(_ value: Value, into list: inout [String]) {
        if let text = value.idText, !list.contains(text) { list.append(text) }
    }

    /// Adds a stored journey (its JSON form): its id, its application and the candidate's address.
    mutating func noteJourney(_ data: Value) {
        Self.note(data["id"], into: &journeys)
        Self.note(data["context"]["application"]["id"], into: &applications)
        Self.note(data["context"]["candidate"]["email"], into: &emails)
    }
}

/// Finding an email address in text as a whole address.
public enum EmailAddress {
    /// Whether `address` stands in `text` as a whole address: `ada@example.com` is not in
    /// `nada@example.com` nor in `ada@example.com.au`. Both are compared as given (lowercase
    /// them first to ignore case).
    public static func stands(in text: String, _ address: String) -> Bool {
        let bytes = Array(text.utf8), needle = Array(address.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        // Letters, digits, the full stop and every other character RFC 5322 allows in the
        // local part (`o'brien@…` holds `brien@…`).
        let specials = Set("!#$%&'*+-/=?^_`{|}~.".utf8)
        func partOfAddress(_ b: UInt8) -> Bool {
            (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || specials.contains(b)
        }
        func at(_ i: Int) -> UInt8 { i >= 0 && i < bytes.count ? bytes[i] : 32 }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            guard bytes[start..<(start + needle.count)].elementsEqual(needle) else { continue }
            let end = start + needle.count
            // A full stop right after it ends a sentence, not the address, unless more follows.
            let ends = !partOfAddress(at(end)) || (at(end) == 46 && !partOfAddress(at(end + 1)))
            if !partOfAddress(at(start - 1)), ends { return true }
        }
        return false
    }
}

/// How many stored records an erasure or a retention sweep changed or removed, by kind.
public struct ErasureCounts: Sendable, Equatable {
    public var journeys = 0
    public var events = 0
    public var deliveries = 0
    public var actions = 0
    public var auditRows = 0
    public var timers = 0
    public var tasks = 0
    public var messages = 0
    public var applications = 0

    public init() {}

    /// The counts as named fields, in a fixed order (for `--format json` and the log).
    public var fields: [(String, Int)] {
        [("journeys", journeys), ("events", events), ("deliveries", deliveries), ("actions", actions), ("audit_rows", auditRows),
         ("timers", timers), ("tasks", tasks), ("messages", messages), ("applications", applications)]
    }
}

/// Erasure and retention: deleting personal data while keeping the anonymous counts (flows,
/// states, outcomes, times, delivery outcomes) that `report` and the metrics read.
public protocol ErasureStore {
    /// The journeys, applications and email addresses of `candidate`: journeys whose context
    /// names the candidate or one of their applications; applications named beside the
    /// candidate in a journey's context, an event or an application profile.
    func erasureScope(candidate: String) throws(StoreError) -> ErasureScope
    /// Removes the personal data `scope` reaches, in one transaction. Journey rows keep their
    /// flow, version, state, outcome and times; their context, variables and key go. Events
    /// and raw deliveries keep their ids (duplicates are still recognised) and lose their
    /// bodies; actions keep their connector and outcome and lose their arguments and results;
    /// audit entries keep what the engine wrote (states, timers, paths) and lose what came from
    /// data; the journeys' timers, the candidate's message counts and the applications'
    /// profiles are deleted. Running it again changes nothing more.
    func erase(_ scope: ErasureScope, at: Date) throws(StoreError) -> ErasureCounts
    /// Ended journeys whose last step was before `endedBefore` and that still hold personal
    /// data, at most `limit`, with the applications no active journey still needs.
    func expiredScope(endedBefore: Date, limit: Int) throws(StoreError) -> ErasureScope
    /// The same in up to `batches` scopes of at most `batchSize` journeys (and as many old
    /// profiles) each, found together: a sweep erases them one transaction at a time. Each
    /// scope's `before` is the cutoff.
    func expiredScopes(endedBefore: Date, batchSize: Int, batches: Int) throws(StoreError) -> [ErasureScope]
    /// Deletes processed inbox events, settled raw deliveries and refusal records received
    /// before `before` (`retention.events`); returns how many rows went. Events still pending,
    /// failed, or deliveries waiting in review, are kept: they are work not yet done.
    func purgeEvents(before: Date) throws(StoreError) -> Int
}

/// Timeline fields whose values the engine itself writes (state and timer names, paths,
/// connector names, times, counts): erasure keeps them. Every other field (`vars`, `message`,
/// `value`, `application`, anything a later version adds) may hold data and is removed.
public enum ErasedAudit {
    public static let keptFields: Set<String> = [
        "connector", "count", "dead_letter", "detail", "due", "event", "event_id", "fallback", "flow", "for", "from",
        "from_version", "idempotency_key", "internal", "lateness_s", "outcome", "path", "reason", "state", "timer", "to",
        "to_version", "type", "until", "version", "window_end",
    ]
    /// Entry kinds whose `reason` can quote what a connector answered (an address, a name).
    static let quotedReasons: Set<String> = ["action_failed"]

    /// `fields` of an entry of `kind` with only the kept fields.
    public static func scrub(_ fields: Value, kind: String) -> Value {
        guard case .object(let members) = fields else { return .object([:]) }
        var kept: [String: Value] = [:]
        for (key, value) in members where keptFields.contains(key) {
            kept[key] = key == "reason" && quotedReasons.contains(kind) ? .string("erased") : value
        }
        return .object(kept)
    }

    /// A stored audit row's data after erasure: a packed `entries` row scrubs each entry.
    public static func scrubRow(_ data: Value, kind: String) -> Value {
        guard kind == "entries" else { return scrub(data, kind: kind) }
        return .array((data.arrayValue ?? []).map { entry in
            var out = entry.objectValue ?? [:]
            let entryKind = out["kind"]?.stringValue ?? ""
            out["fields"] = scrub(out["fields"] ?? .null, kind: entryKind)
            return .object(out)
        })
    }
}
