import Foundation
import HirewireLanguage

/// Evaluating 1,000,000 compiled guard expressions from the bundled flows against a journey's
/// context. Target: under 1 s.
struct GuardBenchmark {
    let repo: String

    func run() -> BenchResult {
        let compiled = ProjectCompiler.compile(root: repo)
        var guards: [CompiledExpression] = []
        for machine in compiled.machines.values.sorted(by: { $0.id < $1.id }) {
            if let c = machine.start.condition { guards.append(c) }
            for state in machine.states {
                for transitions in state.handlers.values { guards += transitions.compactMap(\.condition) }
                guards += state.choices.compactMap(\.condition)
            }
            guards += machine.exits.compactMap(\.condition)
        }
        let data = (try? Value.parseJSON(Data(contentsOf: URL(fileURLWithPath: repo + "/examples/events/offer-extended.json")))) ?? .null
        var roots = EventData.unwrap(data).objectValue ?? [:]
        roots["percent"] = 72
        roots["assessment"] = ["score": 72, "max_score": 100]
        roots["event"] = ["type": "offer.accepted", "data": ["offer": ["id": "o1"], "application": ["id": "a1"]]]
        let context = ExprContext(roots: roots, now: Date(timeIntervalSince1970: 1_772_000_000))
        let total = 1_000_000
        var times: [Double] = []
        var held = 0
        for _ in 0..<5 {
            held = 0
            times.append(seconds {
                var i = 0
                while i < total {
                    if guards[i % guards.count].holds(context) { held += 1 }
                    i += 1
                }
            })
        }
        return BenchResult(name: "evaluate \(total) guards", median: median(times) * 1000, unit: "ms", target: 1000,
                           detail: "(\(guards.count) distinct guards, \(held) held)")
    }
}
