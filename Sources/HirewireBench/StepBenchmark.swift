import Foundation
import HirewireEngine
import HirewireLanguage

/// The pure step function on the offer journey: each journey gets offer.extended (start: three
/// templates rendered, timers armed), offer.viewed (transition, Slack) and offer.accepted (end).
/// Target: at least 500,000 events/s.
struct StepBenchmark {
    let project: CompiledProject

    static func offer(_ i: Int, at: Date) -> CanonicalEvent {
        CanonicalEvent(id: "e\(i)", type: "offer.extended", occurredAt: at, source: "bench", data: [
            "candidate": ["id": .string("c\(i)"), "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": .string("a\(i)")], "job": ["title": "Senior Data Engineer"],
            "recruiter": ["name": "Sam", "email": "sam@acme.test"], "offer": ["id": "o1", "tier": "B", "expires_at": "2026-03-20T17:00:00Z"],
        ])
    }

    func run() -> BenchResult {
        guard let machine = project.machines["offer-nurture"] else { return BenchResult(name: "step", median: 0, unit: "events/s", target: 0, detail: "no offer-nurture") }
        let setup = EngineSetup(project)
        let now = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        let journeys = 20_000
        let viewed = CanonicalEvent(id: "v", type: "offer.viewed", occurredAt: now, source: "bench", data: ["application": ["id": "a"], "offer": ["id": "o1"]])
        let accepted = CanonicalEvent(id: "x", type: "offer.accepted", occurredAt: now, source: "bench", data: ["application": ["id": "a"], "offer": ["id": "o1"]])
        var rates: [Double] = []
        var actions = 0
        for _ in 0..<5 {
            actions = 0
            let elapsed = seconds {
                for i in 0..<journeys {
                    let start = Step.start(machine, setup: setup, event: Self.offer(i, at: now), key: "a\(i)", journeyId: "j\(i)", now: now)
                    guard let j1 = start.journey else { continue }
                    let view = Step.apply(machine, setup: setup, journey: j1, input: .event(viewed), now: now)
                    guard let j2 = view.journey else { continue }
                    let accept = Step.apply(machine, setup: setup, journey: j2, input: .event(accepted), now: now)
                    actions += start.actions.count + view.actions.count + accept.actions.count
                }
            }
            rates.append(Double(journeys * 3) / elapsed)
        }
        // Higher is better here: report the rate, and hold it to the target from below.
        let rate = median(rates)
        return BenchResult(name: "pure step, offer journey", median: rate, unit: "events/s", target: 500_000,
                           detail: "(\(journeys) journeys x 3 events, \(actions) actions rendered)", higherIsBetter: true)
    }
}
