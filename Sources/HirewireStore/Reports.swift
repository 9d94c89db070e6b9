import Foundation

/// One offer event as the inbox holds it (`offer.extended`, `offer.accepted`, `offer.declined`).
public struct OfferEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case extended, accepted, declined }
    public var kind: Kind
    /// The offer's id, or its application's when the event names no offer.
    public var offer: String
    public var at: Date
    /// The recruiter the event names (`recruiter.email`, else `recruiter.name`).
    public var recruiter: String?

    public init(kind: Kind, offer: String, at: Date, recruiter: String?) {
        self.kind = kind
        self.offer = offer
        self.at = at
        self.recruiter = recruiter
    }
}

/// How many journeys of a cohort did something at a state: entered it, left it for another
/// state, ended in it (by outcome), or wait in it now.
public struct StageCount: Sendable, Equatable {
    public var flow: String
    public var state: String
    public var count: Int

    public init(flow: String, state: String, count: Int) {
        self.flow = flow
        self.state = state
        self.count = count
    }
}

/// What `hirewire report` reads beyond deliveries: offer events and the stages journeys passed.
public protocol ReportReads: Sendable {
    /// Every offer event in the inbox, in the order they came in (``OfferKPIs`` orders them
    /// by `occurred_at`).
    func offerEvents() throws(StoreError) -> [OfferEvent]
    /// Journeys started since `since`: per flow and state, how many entered it (their start
    /// counts as entering the initial state) and how many left it for another state, each
    /// journey counted once per state however often it came back.
    func stageMoves(startedSince since: Date) throws(StoreError) -> (entered: [StageCount], advanced: [StageCount])
    /// Journeys started since `since`, per flow, state and outcome (`nil` for live ones).
    func journeyPlaces(startedSince since: Date) throws(StoreError) -> [(flow: String, state: String, outcome: String?, count: Int)]
}

/// The offer KPIs of `report`: of the offers extended in the period, how many were accepted
/// and declined (by recruiter) and how long acceptance took.
public struct OfferKPIs: Sendable, Equatable {
    public struct Recruiter: Sendable, Equatable {
        public var recruiter: String
        public var extended = 0
        public var accepted = 0
        public var declined = 0
        /// Accepted over decided (accepted + declined); nil while none is decided.
        public var acceptanceRate: Double? { accepted + declined == 0 ? nil : Double(accepted) / Double(accepted + declined) }
    }

    public var recruiters: [Recruiter]
    /// Seconds from extended to accepted, ascending, one per accepted offer.
    public var cycleTimes: [Double]

    /// The cohort is each offer with an `offer.extended` at or after `since`, counted from the
    /// first of them; its decision is the first acceptance or decline after that (an acceptance
    /// or decline before it, and later extensions of the same offer, change nothing).
    public init(_ events: [OfferEvent], since: Date) {
        var extended: [String: OfferEvent] = [:]
        var decided: [String: OfferEvent] = [:]
        for event in events.sorted(by: { $0.at < $1.at }) {
            switch event.kind {
            case .extended:
                if event.at >= since, extended[event.offer] == nil { extended[event.offer] = event }
            case .accepted, .declined:
                if extended[event.offer] != nil, decided[event.offer] == nil { decided[event.offer] = event }
            }
        }
        var byRecruiter: [String: Recruiter] = [:]
        var cycle: [Double] = []
        for (offer, start) in extended {
            let name = start.recruiter ?? "(no recruiter)"
            var row = byRecruiter[name] ?? Recruiter(recruiter: name)
            row.extended += 1
            if let end = decided[offer] {
                if end.kind == .accepted {
                    row.accepted += 1
                    cycle.append(end.at.timeIntervalSince(start.at))
                } else {
                    row.declined += 1
                }
            }
            byRecruiter[name] = row
        }
        recruiters = byRecruiter.values.sorted { $0.recruiter < $1.recruiter }
        cycleTimes = cycle.sorted()
    }

    /// The `q`-quantile of the cycle times (nearest rank), nil when none was accepted.
    public func cycleTime(quantile q: Double) -> Double? {
        guard !cycleTimes.isEmpty else { return nil }
        let rank = Int((q * Double(cycleTimes.count)).rounded(.up))
        return cycleTimes[min(max(rank, 1), cycleTimes.count) - 1]
    }
}

/// Stage advance and drop-off of `report`: per flow and state, of the journeys (started in
/// the period) that entered it, how many moved on, how many ended there and how many wait there.
public struct StageFunnel: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var flow: String
        public var state: String
        public var entered = 0
        public var advanced = 0
        /// Journeys that ended in this state, by outcome.
        public var ended: [String: Int] = [:]
        public var waiting = 0
        /// Whether the state is a final one (`end:`): journeys that reach it have finished, so
        /// ending there is no drop-off.
        public var isFinal = false

        public var endedCount: Int { ended.values.reduce(0, +) }
        /// Share of those that entered and moved on to another state.
        public var advanceRate: Double? { entered == 0 || isFinal ? nil : Double(advanced) / Double(entered) }
        /// Share of those that entered and ended here without finishing (an exit, a timeout, a
        /// cancel); nil for a final state.
        public var dropOffRate: Double? { entered == 0 || isFinal ? nil : Double(endedCount) / Double(entered) }
    }

    public var rows: [Row]

    /// `finalStates` names each flow's final states (from its compiled machine; a state not
    /// named is taken as a stage on the way).
    public init(entered: [StageCount], advanced: [StageCount], places: [(flow: String, state: String, outcome: String?, count: Int)],
                finalStates: [String: Set<String>]) {
        var rows: [String: Row] = [:]
        func update(_ flow: String, _ state: String, _ change: (inout Row) -> Void) {
            let key = flow + "\u{0}" + state
            var row = rows[key] ?? Row(flow: flow, state: state, isFinal: finalStates[flow]?.contains(state) ?? false)
            change(&row)
            rows[key] = row
        }
        for e in entered { update(e.flow, e.state) { $0.entered += e.count } }
        for a in advanced { update(a.flow, a.state) { $0.advanced += a.count } }
        for p in places {
            update(p.flow, p.state) { row in
                if let outcome = p.outcome { row.ended[outcome, default: 0] += p.count } else { row.waiting += p.count }
            }
        }
        self.rows = rows.values.sorted { ($0.flow, $0.isFinal ? 1 : 0, -$0.entered, $0.state) < ($1.flow, $1.isFinal ? 1 : 0, -$1.entered, $1.state) }
    }
}
