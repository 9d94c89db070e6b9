import Foundation
import HirewireLanguage

/// Validating a project of 100 flow files (variants of the bundled four): load from disk,
/// parse, type-check, check templates. Target: under 200 ms.
struct ValidateBenchmark {
    let repo: String

    func run() -> BenchResult {
        let fm = FileManager.default
        let dir = NSTemporaryDirectory() + "hirewire-bench-" + UUID().uuidString
        defer { try? fm.removeItem(atPath: dir) }
        try? fm.createDirectory(atPath: dir + "/flows", withIntermediateDirectories: true)
        try? fm.copyItem(atPath: repo + "/templates", toPath: dir + "/templates")
        try? fm.copyItem(atPath: repo + "/hirewire.yaml", toPath: dir + "/hirewire.yaml")
        let originals = ((try? fm.contentsOfDirectory(atPath: repo + "/flows")) ?? []).filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".test.yaml") }.sorted()
        var count = 0
        for i in 0..<100 {
            let name = originals[i % originals.count]
            guard var text = try? String(contentsOfFile: repo + "/flows/" + name, encoding: .utf8) else { continue }
            let id = (name as NSString).deletingPathExtension
            text = text.replacingOccurrences(of: "flow: \(id)\n", with: "flow: \(id)-\(i)\n")
            try? text.write(toFile: dir + "/flows/\(id)-\(i).yaml", atomically: true, encoding: .utf8)
            count += 1
        }
        var times: [Double] = []
        var machines = 0
        var errors = 0
        for _ in 0..<7 {
            times.append(seconds {
                let compiled = ProjectCompiler.compile(root: dir)
                machines = compiled.machines.count
                errors = compiled.errorCount
            })
        }
        return BenchResult(name: "validate \(count) flow files", median: median(times) * 1000, unit: "ms", target: 200,
                           detail: "(\(machines) machines, \(errors) errors)")
    }
}
