import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage

/// Compiles a one-flow project written to a temporary folder and runs it on a virtual clock.
struct EngineFixture {
    let project: CompiledProject
    let machine: Machine

    init(flow: String, config: String = "", templates: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        let root = NSTemporaryDirectory() + "hirewire-engine-" + UUID().uuidString
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        try fm.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/templates", withIntermediateDirectories: true)
        try flow.write(toFile: root + "/flows/f.yaml", atomically: true, encoding: .utf8)
        try config.write(toFile: root + "/hirewire.yaml", atomically: true, encoding: .utf8)
        for (name, text) in templates { try text.write(toFile: root + "/templates/\(name).yaml", atomically: true, encoding: .utf8) }
        project = ProjectCompiler.compile(root: root)
        let errors = project.diagnostics.filter { $0.severity == .error }
        guard let machine = project.machines.values.first, errors.isEmpty else {
            XCTFail("fixture does not compile: \(project.diagnostics.map(\.description))", file: file, line: line)
            throw XCTSkip("fixture")
        }
        self.machine = machine
    }

    func simulation(at clock: String) -> Simulation {
        Simulation(machines: [machine], setup: EngineSetup(project), clock: t(clock))
    }
}

func t(_ text: String) -> Date { Timestamp.parse(text) ?? Date.distantPast }

func event(_ type: String, _ data: Value, at: String, id: String = UUID().uuidString) -> CanonicalEvent {
    CanonicalEvent(id: id, type: type, occurredAt: t(at), source: "test", data: data)
}

extension Simulation {
    mutating func send(_ type: String, _ data: Value, at: String) {
        advance(to: t(at))
        send(event(type, data, at: at))
    }

    /// `connector@time` for every action, in order.
    var actionLog: [String] { actions.map { "\($0.action.connector)@\(Timestamp.format($0.at))" } }

    func kinds(_ kind: String) -> [TimelineEntry] { timeline.filter { $0.kind == kind } }
}
