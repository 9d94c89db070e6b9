import Foundation
import HirewireLanguage
import HirewireStore

/// `hirewire tasks [--open]`
enum TasksCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "tasks", abstract: "Recruiter tasks created by journeys (the task connector).",
        arguments: [.flag("open", help: "Only tasks not done yet."), StoreAccess.dbOption,
                    .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let store = try StoreAccess.open(arguments, io).store
        let tasks = try store.tasks(openOnly: arguments.flag("open"))
        if arguments.option("format") == "json" {
            io.out(Value.array(tasks.map { t in
                .object(["id": .number(Double(t.id)), "journey": .string(t.journey), "title": .string(t.title), "assignee": t.assignee.map(Value.string) ?? .null,
                         "due": t.due.map(Value.timestamp) ?? .null, "notes": t.notes.map(Value.string) ?? .null, "created_at": .timestamp(t.createdAt),
                         "done": .bool(t.doneAt != nil)])
            }).jsonString(pretty: true) + "\n")
            return 0
        }
        for t in tasks {
            let due = t.due.map { "  due \(Timestamp.format($0))" } ?? ""
            io.out("#\(t.id)  \(t.doneAt == nil ? "open" : "done")  \(t.title)  → \(t.assignee ?? "unassigned")\(due)  (\(t.journey))\n")
        }
        io.out("\(tasks.count) task\(tasks.count == 1 ? "" : "s")\n")
        return 0
    }
}

/// `hirewire report [--since T]`
enum ReportCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "report", abstract: "Delivery by connector (the seeds' 98% target), retries, dead letters and latency; journeys by outcome.",
        arguments: [.option("since", help: "Start of the period: an ISO date-time or a relative time such as -7d (default -30d)."),
                    StoreAccess.dbOption, .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let store = try StoreAccess.open(arguments, io).store
        let since = try arguments.option("since").map { text throws(UsageError) in try StoreAccess.time(text) } ?? Date().addingTimeInterval(-30 * 86400)
        let stats = try store.connectorStats(since: since)
        let outcomes = try store.journeyOutcomes(since: since)
        if arguments.option("format") == "json" {
            let rows: [Value] = stats.map { s in
                var row: [String: Value] = ["connector": .string(s.connector), "sent": .number(Double(s.sent)), "dead": .number(Double(s.dead)),
                                            "retries": .number(Double(s.retried))]
                row["delivery_rate"] = s.deliveryRate.map(Value.number) ?? .null
                row["mean_latency_seconds"] = s.sent > 0 ? .number(s.sentLatency / Double(s.sent)) : .null
                return .object(row)
            }
            let journeys: [Value] = outcomes.map { .object(["flow": .string($0.flow), "outcome": .string($0.outcome), "count": .number(Double($0.count))]) }
            io.out(Value.object(["since": .timestamp(since), "connectors": .array(rows), "journeys": .array(journeys)]).jsonString(pretty: true) + "\n")
            return 0
        }
        io.out("since \(Timestamp.format(since))\n\n")
        io.out("connector   sent   dead  retries  delivered  mean latency\n")
        for s in stats {
            var rate = "-"
            if let r = s.deliveryRate { rate = String(format: "%.1f%%", r * 100) + (r < 0.98 ? " (below 98%)" : "") }
            let latency = s.sent > 0 ? String(format: "%.0f ms", s.sentLatency / Double(s.sent) * 1000) : "-"
            let name = s.connector.padding(toLength: 10, withPad: " ", startingAt: 0)
            let counts = String(format: "%5d  %5d  %7d", s.sent, s.dead, s.retried)
            io.out("\(name)\(counts)  \(rate)  \(latency)\n")
        }
        if stats.isEmpty { io.out("(nothing dispatched in this period)\n") }
        io.out("\njourneys started in the period, by outcome:\n")
        for flow in Array(Set(outcomes.map(\.flow))).sorted() {
            let parts = outcomes.filter { $0.flow == flow }.map { "\($0.outcome) \($0.count)" }
            io.out("  \(flow): \(parts.joined(separator: ", "))\n")
        }
        if outcomes.isEmpty { io.out("  (none)\n") }
        return 0
    }
}
