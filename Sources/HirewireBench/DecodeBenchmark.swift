import Foundation
import HirewireEngine
import HirewireLanguage

/// Reading the store's own JSON back (a journey row, as a batch of events for running
/// journeys loads it): the flow-file loader (positions, diagnostics), and the lean reader of
/// libyaml's events the store uses. (Foundation's JSONSerialization took about 210 µs here.)
struct DecodeBenchmark {
    let project: CompiledProject

    func run() -> [BenchResult] {
        let now = Timestamp.parse("2026-03-02T12:00:00Z") ?? Date()
        guard let machine = project.machines["offer-nurture"],
              let journey = Step.start(machine, setup: EngineSetup(project), event: StepBenchmark.offer(7, at: now), key: "a7",
                                       journeyId: "jrn_01J0000000000000000000000", now: now).journey else { return [] }
        let text = journey.encoded.jsonString()
        let rounds = 2_000
        var results: [BenchResult] = []
        for (name, decode) in [("flow-file loader", { (t: String) in Value.parseOwnJSON(t) }),
                               ("stored-JSON reader", { (t: String) in Value.parseStoredJSON(t) })] {
            var ok = 0
            let elapsed = seconds { for _ in 0..<rounds where decode(text).flatMap(Journey.init(encoded:)) != nil { ok += 1 } }
            results.append(BenchResult(name: "decode a stored journey (\(name))", median: elapsed / Double(rounds) * 1e6, unit: "µs", target: 0,
                                       detail: "(\(text.utf8.count) bytes, \(ok) of \(rounds) read back)"))
        }
        return results
    }
}
