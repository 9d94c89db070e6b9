import Foundation
import HirewireLanguage

// Hirewire's benchmarks. Run in release mode from the repository root:
//   swift run -c release hirewire-bench            (or: scripts/dev bench)
// Each benchmark prints its median over several runs and the target it is held to.

let repo = FileManager.default.currentDirectoryPath
guard ProjectLoader.isProject(repo) else {
    FileHandle.standardError.write(Data("run hirewire-bench from the repository root (it reads flows/ and templates/)\n".utf8))
    exit(2)
}

var results: [BenchResult] = []
results.append(ValidateBenchmark(repo: repo).run())
results.append(GuardBenchmark(repo: repo).run())
for result in results { print(result.line) }
exit(results.allSatisfy(\.met) ? 0 : 1)
