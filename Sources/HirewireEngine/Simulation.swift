import Foundation
import HirewireLanguage

/// An in-memory runtime on a virtual clock: routes events to journeys, fires timers in due
/// order, and records every action instead of calling connectors. It drives `hirewire test`
/// and `simulate`; `serve` runs the same step function against the durable store.
public struct Simulation: Sendable {
    /// Machines by flow id (the newest version of each flow).
    public var machines: [String: Machine]
    public let setup: EngineSetup
    public var env: [String: String]
    public private(set) var clock: Date
    public private(set) var journeys: [String: Journey] = [:]
    /// Active journey id by flow and key.
    private var active: [String: String] = [:]
    /// Flow-and-key pairs that ever had a journey (for `reentry: once`).
    private var started: Set<String> = []
    public private(set) var timers: [String: TimerRecord] = [:]
    public private(set) var timeline: [TimelineEntry] = []
    /// Every dispatched action with the moment it was queued.
    public private(set) var actions: [(at: Date, flow: String, key: String, action: PlannedAction)] = []
    private var candidateMessages: [String: [Date]] = [:]
    /// What each application's events said so far (the store's application profiles).
    private var profiles = ApplicationProfiles()
    /// Events held in review for a field their type requires, with their application, in order.
    private var held: [(application: String, event: CanonicalEvent)] = []
    /// Events a flow refused to start a journey for (`require` unmet), with their application.
    private var refused: [(application: String, flow: String, event: CanonicalEvent)] = []
    private var counter = 0

    public init(machines: [Machine], setup: EngineSetup, clock: Date, env: [String: String] = [:]) {
        self.machines = Dictionary(machines.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.setup = setup
        self.clock = clock
        self.env = env
    }

    private func pair(_ flow: String, _ key: String) -> String { flow + "\u{0}" + key }

    /// Fires every timer due at or before `time`, in due order, then sets the clock to `time`.
    public mutating func advance(to time: Date) {
        var fired = 0
        while fired < 100_000, let next = timers.values.filter({ $0.due <= time }).min(by: { ($0.due, $0.id) < ($1.due, $1.id) }) {
            if next.due > clock { clock = next.due }
            timers[next.id] = nil
            fired += 1
            guard let journey = journeys[next.journey] else {
                // An action that always goes out still does (one of a start sent to review).
                if let released = Step.releaseWithoutJourney(next, now: clock) { apply(released, flow: next.flow ?? "") }
                continue
            }
            guard let machine = machines[journey.flow] else { continue }
            apply(Step.apply(machine, setup: setup, journey: journey, input: .timer(next), now: clock, facts: facts(journey.context)), flow: machine.id)
        }
        if time > clock { clock = time }
    }

    /// Delivers a canonical event at the current clock (after `advance(to:)`).
    public mutating func send(_ given: CanonicalEvent) {
        // As `serve` takes a canonical event in: a field its type requires that it lacks is filled
        // from what its application's earlier events said, and one still missing sends it to
        // review before any flow sees it (flows rely on those fields being there).
        var event = given
        let taken = profiles.takeIn(given.data, type: given.type)
        event.data = taken.data
        guard taken.missing.isEmpty else {
            timeline.append(TimelineEntry(at: clock, flow: "", journey: "", key: "", kind: "review",
                                          fields: ["event": .string(event.type), "reason": .string(CompiledSource.incompleteReason(type: event.type, missing: taken.missing))]))
            if let application = given.data["application"]["id"].stringValue { held.append((application, given)) }
            return
        }
        if let application = taken.news { heal(application) }
        routeAll(event, toFlow: nil)
    }

    /// As `serve` heals what waits for an application's data once news about it comes in: the
    /// events its flows refused are routed again to those flows, filled with what is known now,
    /// then the events held in review are taken in again in their order, all before the news.
    private mutating func heal(_ application: String) {
        // A refused start goes again only once it has what its flow requires (else it would be
        // refused again, its `on_invalid` repeated); the others keep waiting.
        var ready: [(flow: String, event: CanonicalEvent)] = []
        refused.removeAll { item in
            guard item.application == application, let machine = machines[item.flow] else { return false }
            var event = item.event
            event.data = profiles.filled(event.data)
            guard Step.missingRequirements(machine, data: event.data.objectValue ?? [:]).isEmpty else { return false }
            ready.append((item.flow, event))
            return true
        }
        for item in ready { routeAll(item.event, toFlow: item.flow) }
        let heldNow = held.filter { $0.application == application }
        held.removeAll { $0.application == application }
        for item in heldNow { send(item.event) }
    }

    /// Routes `event` (to one flow, or to all) and then what it emits, to every flow.
    private mutating func routeAll(_ event: CanonicalEvent, toFlow flow: String?) {
        var queue = [event]
        var only = flow
        var hops = 0
        while !queue.isEmpty, hops < 100 {
            hops += 1
            let next = queue.removeFirst()
            queue += route(next, toFlow: only)
            only = nil
        }
    }

    private func facts(_ context: [String: Value]) -> StepFacts {
        let candidate = context["candidate"]?["id"].stringValue
        return StepFacts(recentCandidateMessages: candidate.flatMap { candidateMessages[$0] } ?? [], env: env)
    }

    /// Routes one event to every flow (or to `flow` only); returns events emitted on the way. A
    /// flow that refuses to start a journey for it keeps it for its application's news.
    private mutating func route(_ event: CanonicalEvent, toFlow flow: String? = nil) -> [CanonicalEvent] {
        let ordered = machines.values.filter { flow == nil || $0.id == flow }.sorted { $0.id < $1.id }
        var shell = Shell(simulation: self)
        let before = timeline.count
        let (emitted, ignored) = Router.route(event, machines: ordered, setup: setup, now: clock, shell: &shell)
        self = shell.simulation
        for entry in timeline[before...] where entry.kind == "review" && entry.fields["event_id"] == .string(event.id) {
            if let application = entry.fields["application"]?.stringValue { refused.append((application, entry.flow, event)) }
        }
        if let ignored { timeline.append(ignored) }
        return emitted
    }

    /// The simulation as the router's shell.
    private struct Shell: RoutingShell {
        var simulation: Simulation
        mutating func activeJourney(flow: String, key: String) -> Journey? {
            simulation.active[simulation.pair(flow, key)].flatMap { simulation.journeys[$0] }
        }
        mutating func hadJourney(flow: String, key: String) -> Bool { simulation.started.contains(simulation.pair(flow, key)) }
        mutating func newJourneyId() -> String {
            simulation.counter += 1
            return String(format: "jrn_%06d", simulation.counter)
        }
        mutating func facts(candidate: String?) -> StepFacts {
            StepFacts(recentCandidateMessages: candidate.flatMap { simulation.candidateMessages[$0] } ?? [], env: simulation.env)
        }
        mutating func machine(for journey: Journey) -> Machine? { simulation.machines[journey.flow] }
        mutating func record(_ result: StepResult, flow: String) {
            if let journey = result.journey { simulation.started.insert(simulation.pair(flow, journey.key)) }
            simulation.apply(result, flow: flow)
        }
    }

    @discardableResult
    private mutating func apply(_ result: StepResult, flow: String) -> [CanonicalEvent] {
        timeline += result.timeline
        // A start sent to review stores no journey, but its `on_invalid` actions go out.
        let key = result.journey?.key ?? result.timeline.first?.key ?? ""
        for action in result.actions { actions.append((clock, flow, key, action)) }
        for id in result.cancelTimers { timers[id] = nil }
        for timer in result.armTimers { timers[timer.id] = timer }
        if let journey = result.journey {
            journeys[journey.id] = journey
            if journey.isActive { active[pair(flow, journey.key)] = journey.id } else if active[pair(flow, journey.key)] == journey.id {
                active[pair(flow, journey.key)] = nil
            }
            if let candidate = journey.context["candidate"]?["id"].stringValue {
                candidateMessages[candidate] = subtractingOnce(result.withdrawnMessages.map(\.at),
                                                               from: (candidateMessages[candidate] ?? []) + result.candidateMessages.map(\.at))
            }
        }
        return result.emitted
    }

    /// The active or most recent journey of `flow` for `key`.
    public func journey(flow: String, key: String) -> Journey? {
        if let id = active[pair(flow, key)] { return journeys[id] }
        return journeys.values.filter { $0.flow == flow && $0.key == key }.max { $0.id < $1.id }
    }
}
