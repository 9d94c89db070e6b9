import Foundation
import HirewireConnectors
import HirewireEngine
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// `hirewire erase --candidate ID`
enum EraseCommand: HirewireCommand {
    static let configuration = CommandConfiguration(
        name: "erase", abstract: "Erase a candidate: end their live journeys (outcome erased), then delete their personal data.",
        discussion: """
            Deletes the candidate's data from the store: their events and raw webhook bodies, journey contexts and \
            variables, rendered actions and their results, recruiter task titles, application profiles, message counts \
            and the data in audit entries; and the mail written to them in .hirewire/mail. Journeys stay as anonymous \
            rows (flow, state, outcome, times), so reports keep their counts. Run it again if it was interrupted; \
            a second run changes nothing more.
            """,
        arguments: [.option("candidate", valueName: "ID", help: "The candidate's id (candidate.id in events).", required: true), StoreAccess.dbOption,
                    .option("format", help: "Output format.", allowed: ["text", "json"], defaultValue: "text")])

    static func run(_ arguments: ParsedArguments, _ io: CommandIO) async throws -> Int32 {
        guard let candidate = arguments.option("candidate"), !candidate.isEmpty else { throw UsageError("erase needs --candidate ID") }
        let locator = try CommandSupport.locate(arguments, io)
        let project = ProjectCompiler.compile(root: locator.root, displayPrefix: locator.displayPrefix)
        let store = try StoreAccess.open(arguments, io, locator: locator, config: project.files.config)
        let engine = try JourneyEngine(project: project, store: store, env: CommandSupport.environment(for: project.files.config))
        let maildir = (locator.root as NSString).appendingPathComponent(".hirewire/mail")
        var mail = 0
        // The mail goes while the store still names the addresses: an erasure interrupted after
        // it finds them again when run once more.
        let report = try engine.erase(candidate: candidate, now: Date()) { scope in
            mail = MaildirCleaner.remove(addressedTo: scope.emails, in: maildir)
        }
        if arguments.option("format") == "json" {
            var fields: [String: Value] = ["candidate": .string(candidate), "mail": .number(Double(mail)),
                                           "ended": .array(report.ended.map { .string($0.id) })]
            for (name, count) in report.counts.fields { fields[name] = .number(Double(count)) }
            io.out(Value.object(fields).jsonString(pretty: true) + "\n")
            return 0
        }
        if report.scope.journeys.isEmpty, report.scope.applications.isEmpty, report.counts == ErasureCounts(), mail == 0 {
            io.out("nothing stored for candidate \(candidate)\n")
            return 0
        }
        for journey in report.ended { io.out("\(journey.id) ended (erased) in state \(journey.state)\n") }
        let changed = report.counts.fields.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.replacingOccurrences(of: "_", with: " "))" }
            + (mail > 0 ? ["\(mail) mail files"] : [])
        io.out("erased candidate \(candidate): \(changed.isEmpty ? "nothing left to remove" : changed.joined(separator: ", "))\n")
        return 0
    }
}
