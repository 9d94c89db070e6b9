import Foundation

/// One benchmark's outcome.
struct BenchResult {
    var name: String
    var median: Double
    var unit: String
    var target: Double
    var detail: String
    var met: Bool { median <= target }

    var line: String {
        let value = String(format: "%.1f", median)
        return "\(name): \(value) \(unit) (target ≤ \(Int(target)) \(unit))\(met ? "" : "  MISSED") \(detail)"
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
