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
        name: "report",
        abstract: "The seed KPIs: delivery by connector (98% target), offer-to-acceptance time, acceptance by recruiter, advance and drop-off by stage.",
        discussion: """
            Offers: those extended since T (offer.extended in the inbox), each decided by its first acceptance or decline after that. \
            Stages: journeys started since T; per state, how many entered it, moved on, ended there (a drop-off, unless the state is final) or wait there.
            """,
        arguments: [.option("since", help: "Start of the period: an ISO date-time or a relative time such as -7d (default -30d)."),
                    StoreAccess.dbOption, .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        let (locator, store) = try StoreAccess.open(arguments, io)
        let since = try arguments.option("since").map { text throws(UsageError) in try StoreAccess.time(text) } ?? Date().addingTimeInterval(-30 * 86400)
        let stats = try store.connectorStats(since: since)
        let outcomes = try store.journeyOutcomes(since: since)
        let offers = OfferKPIs(try store.offerEvents(), since: since)
        let moves = try store.stageMoves(startedSince: since)
        // Final states come from the flows as they are now (a state no flow has any more is
        // taken as a stage on the way).
        let machines = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix).machines
        let finals = machines.mapValues { Set($0.states.filter(\.isFinal).map(\.name)) }
        let stages = StageFunnel(entered: moves.entered, advanced: moves.advanced, places: try store.journeyPlaces(startedSince: since), finalStates: finals)
        if arguments.option("format") == "json" {
            io.out(json(since: since, stats: stats, outcomes: outcomes, offers: offers, stages: stages).jsonString(pretty: true) + "\n")
            return 0
        }
        io.out("since \(Timestamp.format(since))\n\n")
        io.out("connector   sent   dead  retries  delivered  mean latency\n")
        for s in stats {
            var rate = "-"
            if let r = s.deliveryRate { rate = percent(r) + (r < 0.98 ? " (below 98%)" : "") }
            let latency = s.sent > 0 ? String(format: "%.0f ms", s.sentLatency / Double(s.sent) * 1000) : "-"
            let name = s.connector.padding(toLength: 10, withPad: " ", startingAt: 0)
            let counts = String(format: "%5d  %5d  %7d", s.sent, s.dead, s.retried)
            io.out("\(name)\(counts)  \(rate)  \(latency)\n")
        }
        if stats.isEmpty { io.out("(nothing dispatched in this period)\n") }
        writeOffers(offers, io)
        writeStages(stages, io)
        io.out("\njourneys started in the period, by outcome:\n")
        for flow in Array(Set(outcomes.map(\.flow))).sorted() {
            let parts = outcomes.filter { $0.flow == flow }.map { "\($0.outcome) \($0.count)" }
            io.out("  \(flow): \(parts.joined(separator: ", "))\n")
        }
        if outcomes.isEmpty { io.out("  (none)\n") }
        return 0
    }

    static func percent(_ r: Double) -> String { String(format: "%.1f%%", r * 100) }

    /// `36 h`, `2.5 d`: hours up to two days, days beyond.
    static func duration(_ seconds: Double) -> String {
        seconds < 2 * 86400 ? String(format: "%.1f h", seconds / 3600) : String(format: "%.1f d", seconds / 86400)
    }

    static func writeOffers(_ offers: OfferKPIs, _ io: CommandIO) {
        let total = offers.recruiters.reduce(into: (0, 0, 0)) { $0.0 += $1.extended; $0.1 += $1.accepted; $0.2 += $1.declined }
        io.out("\noffers extended in the period: \(total.0) (accepted \(total.1), declined \(total.2), open \(total.0 - total.1 - total.2))\n")
        guard total.0 > 0 else { return }
        if let median = offers.cycleTime(quantile: 0.5), let p90 = offers.cycleTime(quantile: 0.9) {
            io.out("  offer to acceptance: median \(duration(median)), 90th percentile \(duration(p90)) (\(offers.cycleTimes.count) accepted)\n")
        }
        io.out("  acceptance by recruiter (accepted of decided):\n")
        let width = max(12, offers.recruiters.map(\.recruiter.count).max() ?? 0) + 2
        for r in offers.recruiters {
            let rate = r.acceptanceRate.map(percent) ?? "-"
            io.out("    \(r.recruiter.padding(toLength: width, withPad: " ", startingAt: 0))extended \(r.extended)  accepted \(r.accepted)  declined \(r.declined)  \(rate)\n")
        }
    }

    static func writeStages(_ stages: StageFunnel, _ io: CommandIO) {
        io.out("\nstages of journeys started in the period (entered, moved on, dropped off, waiting):\n")
        if stages.rows.isEmpty { io.out("  (none)\n") }
        var flow = ""
        let width = max(10, stages.rows.map(\.state.count).max() ?? 0) + 2
        for row in stages.rows {
            if row.flow != flow {
                flow = row.flow
                io.out("  \(flow)\n")
            }
            let name = row.state.padding(toLength: width, withPad: " ", startingAt: 0)
            let outcomes = row.ended.keys.sorted().map { "\($0) \(row.ended[$0] ?? 0)" }.joined(separator: ", ")
            if row.isFinal {
                io.out("    \(name)entered \(row.entered)  final: \(outcomes.isEmpty ? "-" : outcomes)\n")
                continue
            }
            let advanced = "\(row.advanced)" + (row.advanceRate.map { " (\(percent($0)))" } ?? "")
            let dropped = "\(row.endedCount)" + (row.dropOffRate.map { " (\(percent($0)))" } ?? "") + (outcomes.isEmpty ? "" : ": \(outcomes)")
            io.out("    \(name)entered \(row.entered)  moved on \(advanced)  dropped off \(dropped)  waiting \(row.waiting)\n")
        }
    }

    static func json(since: Date, stats: [ConnectorStats], outcomes: [(flow: String, outcome: String, count: Int)], offers: OfferKPIs,
                     stages: StageFunnel) -> Value {
        let rows: [Value] = stats.map { s in
            var row: [String: Value] = ["connector": .string(s.connector), "sent": .number(Double(s.sent)), "dead": .number(Double(s.dead)),
                                        "retries": .number(Double(s.retried))]
            row["delivery_rate"] = s.deliveryRate.map(Value.number) ?? .null
            row["mean_latency_seconds"] = s.sent > 0 ? .number(s.sentLatency / Double(s.sent)) : .null
            return .object(row)
        }
        let journeys: [Value] = outcomes.map { .object(["flow": .string($0.flow), "outcome": .string($0.outcome), "count": .number(Double($0.count))]) }
        let recruiters: [Value] = offers.recruiters.map { r in
            .object(["recruiter": .string(r.recruiter), "extended": .number(Double(r.extended)), "accepted": .number(Double(r.accepted)),
                     "declined": .number(Double(r.declined)), "acceptance_rate": r.acceptanceRate.map(Value.number) ?? .null])
        }
        let cycle: Value = .object(["accepted": .number(Double(offers.cycleTimes.count)),
                                    "median_seconds": offers.cycleTime(quantile: 0.5).map(Value.number) ?? .null,
                                    "p90_seconds": offers.cycleTime(quantile: 0.9).map(Value.number) ?? .null])
        let stageRows: [Value] = stages.rows.map { row in
            .object(["flow": .string(row.flow), "state": .string(row.state), "final": .bool(row.isFinal), "entered": .number(Double(row.entered)),
                     "moved_on": .number(Double(row.advanced)), "waiting": .number(Double(row.waiting)),
                     "ended": .object(row.ended.mapValues { .number(Double($0)) }),
                     "advance_rate": row.advanceRate.map(Value.number) ?? .null, "drop_off_rate": row.dropOffRate.map(Value.number) ?? .null])
        }
        return .object(["since": .timestamp(since), "connectors": .array(rows), "journeys": .array(journeys),
                        "offers": .object(["recruiters": .array(recruiters), "offer_to_acceptance": cycle]), "stages": .array(stageRows)])
    }
}
