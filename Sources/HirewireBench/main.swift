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

// `hirewire-bench step` runs only the benchmarks whose name starts with "step"; no argument runs all.
let only = CommandLine.arguments.dropFirst().first
func wanted(_ name: String) -> Bool { only.map { name.hasPrefix($0) } ?? true }

var results: [BenchResult] = []
if wanted("validate") { results.append(ValidateBenchmark(repo: repo).run()) }
if wanted("guards") { results.append(GuardBenchmark(repo: repo).run()) }
let project = ProjectCompiler.compile(root: repo)
if wanted("step") { results.append(StepBenchmark(project: project).run()) }
if wanted("decode") { results += DecodeBenchmark(project: project).run() }
if wanted("end") { results.append(EndToEndBenchmark(project: project).run()) }
if wanted("timers") { results += TimerScaleBenchmark(project: project).run() }
if wanted("lag") { results.append(FireLagBenchmark(project: project).run()) }
if wanted("map") { results += MapBenchmark(project: project).run() }
if wanted("intake") { results += IntakeBenchmark().run() }
if wanted("dispatch") { results += DispatchBenchmark().run() }
for result in results { print(result.line) }
exit(results.allSatisfy(\.met) ? 0 : 1)
