import Foundation
import HirewireLanguage

/// Something that failed and waits for a person (`hirewire dead-letters`): a delivery whose
/// mapping needs review, an inbox event that could not be processed, an event a flow could not
/// start a journey from (missing data), an action that exhausted its retries, or a damaged timer.
public struct DeadLetter: Sendable, Equatable {
    /// What the item is.
    public enum Kind: String, Sendable, CaseIterable {
        /// A delivery whose mapping needs review (missing required fields, source gone).
        case delivery
        /// An inbox event whose steps could not be stored (parked).
        case event
        /// An event a flow could not start a journey from (`require` unmet).
        case review
        /// An outbox action that exhausted its retries.
        case action
        /// An action that could not even be made (its arguments failed to render).
        case failed
        /// A timer whose stored row cannot be read back (damaged), parked so that it holds back
        /// no other timer. It cannot be replayed; dismiss it once its journey is seen to.
        case timer
    }

    public var kind: Kind
    /// Row number within its kind; `id` ("delivery:12") names the item for show and replay.
    public var number: Int64
    public var at: Date
    /// A one-line description (source and event id, flow and key, connector and path).
    public var what: String
    public var reason: String
    /// The full item for `show` (payload, event, action arguments), unmasked.
    public var detail: Value
    /// The flow a review item's event is replayed to.
    public var flow: String?

    public var id: String { "\(kind.rawValue):\(number)" }

    public init(kind: Kind, number: Int64, at: Date, what: String, reason: String, detail: Value, flow: String? = nil) {
        self.flow = flow
        self.kind = kind
        self.number = number
        self.at = at
        self.what = what
        self.reason = reason
        self.detail = detail
    }

    /// Parses "delivery:12" (also "delivery-12").
    public static func parse(_ id: String) -> (Kind, Int64)? {
        let parts = id.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[0])), let number = Int64(parts[1]) else { return nil }
        return (kind, number)
    }
}

/// Which waiting items to read: every filter narrows the store's own queries (nothing is read
/// to be thrown away), so looking up one item, or the reviews of one event, costs the same
/// however many items wait.
public struct DeadLetterQuery: Sendable, Equatable {
    /// The kinds to read; all of them when nil.
    public var kinds: Set<DeadLetter.Kind>?
    /// Only the item with this row number (within each kind read).
    public var number: Int64?
    /// Only items with a row number above this one.
    public var after: Int64?
    /// Only review items of events with these ids (other kinds are not read when set; none at
    /// all when the list is empty).
    public var eventIds: [String]?
    /// Only review and failed items of this flow (other kinds are not read when set).
    public var flow: String?
    /// At most this many, newest first.
    public var limit: Int

    public init(kinds: Set<DeadLetter.Kind>? = nil, number: Int64? = nil, after: Int64? = nil, eventIds: [String]? = nil,
                flow: String? = nil, limit: Int = 50) {
        self.kinds = kinds
        self.number = number
        self.after = after
        self.eventIds = eventIds
        self.flow = flow
        self.limit = limit
    }

    /// Whether items of `kind` can match at all.
    public func reads(_ kind: DeadLetter.Kind) -> Bool {
        if let kinds, !kinds.contains(kind) { return false }
        if let eventIds, eventIds.isEmpty || kind != .review { return false }
        if flow != nil, kind != .review, kind != .failed { return false }
        return true
    }
}

