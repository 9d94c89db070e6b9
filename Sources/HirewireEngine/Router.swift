import Foundation
import HirewireLanguage

/// What the router needs from the shell around it: journey lookups, ids, facts, and a place
/// to put each step's result before the next step of the same event looks again.
public protocol RoutingShell {
    mutating func activeJourney(flow: String, key: String) -> Journey?
    mutating func hadJourney(flow: String, key: String) -> Bool
    mutating func newJourneyId() -> String
    mutating func facts(candidate: String?) -> StepFacts
    /// The machine a journey is pinned to (its version), when it is not the current one.
    mutating func machine(for journey: Journey) -> Machine?
    /// Takes a step's result; later lookups must see it.
    mutating func record(_ result: StepResult, flow: String)
}

/// Routes canonical events to journeys (flow language section 3, "Journeys and routing"): every
/// flow's `start.key` is evaluated against the event alone; an active journey for the key takes
/// the event; otherwise a start event may start one, as `reentry` allows.
public enum Router {
    /// Routes one event and returns events emitted on the way; `ignored` is set when the event
    /// reached no journey at all, with the most telling reason.
    public static func route<Shell: RoutingShell>(_ event: CanonicalEvent, machines: [Machine], setup: EngineSetup, now: Date,
                                                 shell: inout Shell) -> (emitted: [CanonicalEvent], ignored: TimelineEntry?) {
        var emitted: [CanonicalEvent] = []
        // Why each flow did not take the event, with the flow and the key it computed.
        var reasons: [(reason: String, flow: String, key: String)] = []
        var unstarted: [(String, String)] = []
        var reached = false
        let candidate = event.data["candidate"]["id"].stringValue
        for machine in machines {
            guard let key = Step.key(machine, event: event, now: now) else {
                reasons.append(("no_key", machine.id, ""))
                continue
            }
            let isStart = machine.start.on.contains(event.type)
            if let journey = shell.activeJourney(flow: machine.id, key: key) {
                reached = true
                guard let pinned = journey.version == machine.version ? machine : shell.machine(for: journey) else {
                    // The journey's version no longer compiles: the event is not applied with another
                    // version's rules but kept for review (`dead-letters replay` once it is fixed).
                    var held = StepResult()
                    held.timeline = [TimelineEntry(at: now, flow: machine.id, journey: journey.id, key: key, kind: "review", fields: [
                        "event": .string(event.type), "event_id": .string(event.id),
                        "reason": .string("version \(journey.version) of this flow no longer compiles; the event was not applied"),
                    ])]
                    shell.record(held, flow: machine.id)
                    continue
                }
                // A restart needs an event that would start a journey; any other is an ordinary event.
                if isStart, machine.start.reentry == .restart, Step.wouldStart(machine, event: event, env: shell.facts(candidate: nil).env, now: now) {
                    let ended = Step.end(pinned, setup: setup, journey: journey, outcome: "restarted", now: now)
                    shell.record(ended, flow: machine.id)
                    let started = Step.start(machine, setup: setup, event: event, key: key, journeyId: shell.newJourneyId(), now: now,
                                             facts: shell.facts(candidate: candidate))
                    shell.record(started, flow: machine.id)
                    emitted += ended.emitted + started.emitted
                } else {
                    let applied = Step.apply(pinned, setup: setup, journey: journey, input: .event(event), now: now,
                                             facts: shell.facts(candidate: journey.context["candidate"]?["id"].stringValue))
                    shell.record(applied, flow: machine.id)
                    emitted += applied.emitted
                }
            } else if isStart {
                if machine.start.reentry == .once, shell.hadJourney(flow: machine.id, key: key) {
                    reasons.append(("journey_ended", machine.id, key))
                    continue
                }
                let started = Step.start(machine, setup: setup, event: event, key: key, journeyId: shell.newJourneyId(), now: now,
                                         facts: shell.facts(candidate: candidate))
                shell.record(started, flow: machine.id)
                emitted += started.emitted
                reached = true
            } else {
                // Which of journey_ended / not_started applies is only needed when nothing took the event.
                unstarted.append((machine.id, key))
            }
        }
        guard !reached else { return (emitted, nil) }
        for (flow, key) in unstarted {
            reasons.append((shell.hadJourney(flow: flow, key: key) ? "journey_ended" : "not_started", flow, key))
        }
        // The most telling reason, with the flow (and key) it came from: a timeline or a flow
        // test can then say which journey the event missed.
        let telling = ["journey_ended", "not_started", "no_key"].lazy.compactMap { wanted in reasons.first { $0.reason == wanted } }.first
        return (emitted, TimelineEntry(at: now, flow: telling?.flow ?? "", journey: "", key: telling?.key ?? "", kind: "ignored",
                                       fields: ["reason": .string(telling?.reason ?? "no_flow"), "event": .string(event.type), "event_id": .string(event.id)]))
    }
}
