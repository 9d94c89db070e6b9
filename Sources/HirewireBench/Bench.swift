import Foundation

/// One benchmark's outcome.
struct BenchResult {
    var name: String
    var median: Double
    var unit: String
    var target: Double
    var detail: String
    var higherIsBetter = false
    var met: Bool { higherIsBetter ? median >= target : median <= target }

    var line: String {
        let value = String(format: median >= 1000 ? "%.0f" : "%.1f", median)
        let bound = higherIsBetter ? "≥" : "≤"
        let goal = target > 0 ? " (target \(bound) \(Int(target)) \(unit))" : ""
        return "\(name): \(value) \(unit)\(goal)\(met || target == 0 ? "" : "  MISSED") \(detail)"
    }
}

/// Wall-clock seconds of `body`.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
