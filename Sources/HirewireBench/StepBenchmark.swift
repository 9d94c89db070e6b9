import Foundation
import HirewireEngine
import HirewireLanguage

/// The pure step function on the offer journey: each journey gets offer.extended (start: three
/// templates rendered, timers armed), offer.viewed (transition, Slack) and offer.accepted (end).
/// Target: at least 500,000 events/s.
struct StepBenchmark {
    let project: CompiledProject

    /// The host's environment, as hirewire.yaml `env:` lists it: the accepted state posts to
    /// `ONBOARDING_URL` (without it, that action fails to render and is dead-lettered).
    static let env = ["ONBOARDING_URL": "https://hr.example.com/onboarding"]

    static func offer(_ i: Int, at: Date, expires: String = "2026-03-20T17:00:00Z") -> CanonicalEvent {
        CanonicalEvent(id: "e\(i)", type: "offer.extended", occurredAt: at, source: "bench", data: [
            "candidate": ["id": .string("c\(i)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": .string("a\(i)")], "job": ["title": "Senior Data Engineer"],
            "recruiter": ["name": "Sam", "email": "sam@acme.test"], "offer": ["id": "o1", "tier": "B", "expires_at": .string(expires)],
        ])
    }

    func run() -> BenchResult {
        var parallel = 0.0
        var parallelThreads = 1
        guard let machine = project.machines["offer-nurture"] else { return BenchResult(name: "step", median: 0, unit: "events/s", target: 0, detail: "no offer-nurture") }
        let setup = EngineSetup(project)
        let facts = StepFacts(env: Self.env)
        let now = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        let journeys = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_JOURNEYS"].flatMap { Int($0) } ?? 20_000
        // Each journey's own later events, as routing delivers them: their application id is the
        // journey's key (one shared event with another id rewrote every journey's context).
        let followUp = { (type: String, i: Int) in
            CanonicalEvent(id: "\(type)-\(i)", type: type, occurredAt: now, source: "bench",
                           data: ["application": ["id": .string("a\(i)")], "offer": ["id": "o1"]])
        }
        let viewedEvents = (0..<journeys).map { followUp("offer.viewed", $0) }
        let acceptedEvents = (0..<journeys).map { followUp("offer.accepted", $0) }
        var rates: [Double] = []
        var actions = 0
        var split = [0.0, 0.0, 0.0]
        let events = (0..<journeys).map { Self.offer($0, at: now) }
        let rounds = ProcessInfo.processInfo.environment["HIREWIRE_BENCH_ROUNDS"].flatMap { Int($0) } ?? 5
        for _ in 0..<rounds {
            actions = 0
            var started: [Journey] = []
            var viewedJourneys: [Journey] = []
            started.reserveCapacity(journeys)
            split[0] = seconds {
                for i in 0..<journeys {
                    let start = Step.start(machine, setup: setup, event: events[i], key: "a\(i)", journeyId: "j\(i)", now: now, facts: facts)
                    if let j = start.journey { started.append(j) }
                    actions += start.actions.count
                }
            }
            split[1] = seconds {
                for (i, j) in started.enumerated() {
                    let view = Step.apply(machine, setup: setup, journey: j, input: .event(viewedEvents[i]), now: now, facts: facts)
                    if let j2 = view.journey { viewedJourneys.append(j2) }
                    actions += view.actions.count
                }
            }
            split[2] = seconds {
                for (i, j) in viewedJourneys.enumerated() {
                    actions += Step.apply(machine, setup: setup, journey: j, input: .event(acceptedEvents[i]), now: now, facts: facts).actions.count
                }
            }
            rates.append(Double(journeys * 3) / split.reduce(0, +))
        }
        // The same work split by key across every core: journeys of different keys share
        // nothing, so a host may step them in parallel (the store commits them together).
        let threads = ProcessInfo.processInfo.activeProcessorCount
        var parallelRates: [Double] = []
        for _ in 0..<rounds {
            let elapsed = seconds {
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    for i in stride(from: t, to: journeys, by: threads) {
                        let start = Step.start(machine, setup: setup, event: events[i], key: "a\(i)", journeyId: "j\(i)", now: now, facts: facts)
                        guard let j = start.journey,
                              let j2 = Step.apply(machine, setup: setup, journey: j, input: .event(viewedEvents[i]), now: now, facts: facts).journey
                        else { continue }
                        _ = Step.apply(machine, setup: setup, journey: j2, input: .event(acceptedEvents[i]), now: now, facts: facts)
                    }
                }
            }
            parallelRates.append(Double(journeys * 3) / elapsed)
        }
        parallel = median(parallelRates)
        parallelThreads = threads
        // Higher is better here: report the rate, and hold it to the target from below.
        let rate = median(rates)
        return BenchResult(name: "pure step, offer journey", median: rate, unit: "events/s", target: 500_000,
                           detail: String(format: "(one thread; %d journeys x 3 events, %d actions; µs per event: start %.1f, viewed %.1f, accepted %.1f; %.0f events/s on %d threads)",
                                          journeys, actions, split[0] / Double(journeys) * 1e6, split[1] / Double(journeys) * 1e6,
                                          split[2] / Double(journeys) * 1e6, parallel, parallelThreads), higherIsBetter: true)
    }
}
