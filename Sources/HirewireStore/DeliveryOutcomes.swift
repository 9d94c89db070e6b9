import Foundation
import HirewireEngine
import HirewireLanguage

/// What became of one stored delivery when it was mapped.
public struct DeliveryMark: Sendable, Equatable {
    public var sequence: Int64
    /// `accepted`, `ignored` or `review`.
    public var status: String
    /// The event type it became, or why not.
    public var detail: String
    /// For one sent to review: the application its event is about, when it names one (news about
    /// that application sends it back to be mapped again).
    public var application: String?

    public init(sequence: Int64, status: String, detail: String, application: String? = nil) {
        self.sequence = sequence
        self.status = status
        self.detail = detail
        self.application = application
    }
}

/// What mapping a batch of deliveries came to, written by ``JourneyStore/commitMapping(_:at:)``
/// in one transaction: one flush for the batch instead of three per delivery.
public struct DeliveryOutcomes: Sendable {
    // Written by one mapping pass and handed to the store whole.
    /// Canonical events for the inbox with the delivery each came from, in order. One whose
    /// delivery is no longer pending or in review when the batch is written (a person dismissed
    /// it meanwhile) is left out.
    public var events: [(delivery: Int64, event: CanonicalEvent)] = []
    /// Each delivery's outcome.
    public var marks: [DeliveryMark] = []
    /// Applications' profiles as they stand after the batch (each replaces the stored one).
    public var profiles: [String: Value] = [:]
    /// The applications whose stored profile the batch read and built on. One gone when the
    /// batch is written was erased meanwhile: it is not written back.
    public var readProfiles: Set<String> = []

    public init() {}

    public var isEmpty: Bool { events.isEmpty && marks.isEmpty && profiles.isEmpty }
}
