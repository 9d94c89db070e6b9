import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage

final class StepTests: XCTestCase {
    static let offerFlow = """
        flow: offer
        start: {on: offer.extended, key: application.id, if: offer.tier != "exec"}
        require: [candidate.email]
        exit:
          - {on: candidate.withdrawn, outcome: withdrawn, do: [{slack: {text: "withdrawn {{application.id}}"}}]}
        states:
          extended:
            do: [{email: {to: "{{candidate.email}}", subject: "Offer", text: "Hi"}}]
            on:
              offer.accepted:
                - {goto: accepted, if: event.data.offer.id == offer.id}
                - {do: [{log: {message: "accepted another offer"}}]}
              offer.viewed: {do: [{slack: {text: "viewed"}}]}
            after: {delay: 48h, goto: nudge}
          nudge:
            do: [{email: {to: "{{candidate.email}}", subject: "Nudge", text: "Any questions?"}}]
            on: {offer.accepted: accepted}
            after: {delay: 1d, goto: expired}
          expired: {end: no_response}
          accepted: {end: hired}
        """

    let extended: Value = ["candidate": ["id": "c1", "email": "ada@example.com"], "application": ["id": "a1"], "offer": ["id": "o1", "tier": "B"]]

    /// `start.if` sees `let` names (computed from the start event) and `env`, as the language
    /// lists them among the roots; before, both were null there and such a flow never started.
    func testStartConditionSeesLetNamesAndEnv() throws {
        let flow = """
            flow: gated
            start: {on: candidate.applied, key: application.id, if: lower(nick) == "ada" && env.REGION == "eu"}
            let:
              nick: candidate.preferred_name ?? candidate.first_name
            require: [candidate.first_name]
            states:
              a: {do: [{slack: {text: "hello {{nick}}"}}], end: done}
            """
        let fixture = try EngineFixture(flow: flow, config: "env: [REGION]\n")
        let data: Value = ["candidate": ["id": "c1", "first_name": "Ada"], "application": ["id": "a1"]]
        var eu = Simulation(machines: [fixture.machine], setup: EngineSetup(fixture.project), clock: t("2026-03-02T10:00:00Z"), env: ["REGION": "eu"])
        eu.send("candidate.applied", data, at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(eu.journey(flow: "gated", key: "a1")?.outcome, "done")
        XCTAssertEqual(eu.actions.first?.action.arguments["text"], "hello Ada")
        var us = Simulation(machines: [fixture.machine], setup: EngineSetup(fixture.project), clock: t("2026-03-02T10:00:00Z"), env: ["REGION": "us"])
        us.send("candidate.applied", data, at: "2026-03-02T10:00:00Z")
        XCTAssertNil(us.journey(flow: "gated", key: "a1"))
        XCTAssertEqual(us.kinds("ignored").first?.fields["detail"], "start.if is false")
        var other = Simulation(machines: [fixture.machine], setup: EngineSetup(fixture.project), clock: t("2026-03-02T10:00:00Z"), env: ["REGION": "eu"])
        other.send("candidate.applied", ["candidate": ["id": "c2", "first_name": "Bo", "preferred_name": "Ada"], "application": ["id": "a2"]],
                   at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(other.journey(flow: "gated", key: "a2")?.outcome, "done", "the let prefers the preferred name")
    }

    /// `let` names read earlier ones, are evaluated over the context as it is when they are read,
    /// and follow a merge: after the candidate's preferred name arrives, both names show it.
    func testLetNamesReadEarlierOnesAndFollowTheContext() throws {
        let flow = """
            flow: names
            start: {on: candidate.applied, key: application.id}
            require: [candidate.first_name]
            let:
              first: candidate.preferred_name ?? candidate.first_name
              quiet: lower(first)
            states:
              a:
                do: [{slack: {text: "{{first}}/{{quiet}}"}}]
                on: {candidate.replied: b}
              b: {do: [{slack: {text: "{{quiet}} {{first}}"}}], end: done}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", ["candidate": ["id": "c1", "first_name": "Ada"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z")
        sim.send("candidate.replied", ["candidate": ["id": "c1", "first_name": "Ada", "preferred_name": "ZED"], "application": ["id": "a1"]],
                 at: "2026-03-02T11:00:00Z")
        XCTAssertEqual(sim.actions.map { $0.action.arguments["text"] }, ["Ada/ada", "zed ZED"])
    }

    /// A journey that starts and ends in one step leaves no timer behind: its timeout and
    /// journey-wide timers, armed and cancelled by that step, are not armed at all (the store
    /// applies a step's cancels before its arms, and they stayed pending until due).
    func testAJourneyThatEndsAtOnceLeavesNoTimers() throws {
        let flow = """
            flow: brief
            start: {on: candidate.applied, key: application.id}
            timeout: 30d
            after: [{delay: 1d, do: [{slack: {text: reminder}}]}]
            states:
              sort:
                choose: [{else: done}]
              done: {end: sorted}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", ["candidate": ["id": "c1"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.journey(flow: "brief", key: "a1")?.outcome, "sorted")
        XCTAssertEqual(sim.timers.count, 0, "\(sim.timers.keys.sorted())")
        let fixture = try EngineFixture(flow: flow)
        let started = Step.start(fixture.machine, setup: EngineSetup(fixture.project), event: event("candidate.applied", ["candidate": ["id": "c1"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z"),
                                 key: "a1", journeyId: "jrn_1", now: t("2026-03-02T10:00:00Z"), facts: StepFacts())
        XCTAssertEqual(started.armTimers.map(\.id), [])
    }

    /// A migration does not send the new state's reminder again when the old state's timer at
    /// its place had fired; one not yet due is armed, and one due but never fired goes out now.
    func testMigrationDoesNotRepeatAStateReminderThatFired() throws {
        func flow(_ state: String, migrate: String = "") -> String {
            """
            flow: moved
            start: {on: candidate.applied, key: application.id}
            \(migrate)
            states:
              \(state):
                after:
                  - {delay: 2h, do: [{slack: {text: reminder}}]}
                  - {delay: 40h, goto: done}
              done: {end: done}
            """
        }
        let v1 = try EngineFixture(flow: flow("a"))
        let v2 = try EngineFixture(flow: flow("a2", migrate: "migrate: {a: a2}"))
        let target = try XCTUnwrap(v2.machine.stateIndex["a2"])
        let data: Value = ["candidate": ["id": "c1"], "application": ["id": "a1"]]
        // (when the journey moves, whether the engine ran until then, the reminder armed again)
        for (moveAt, ran, rearmed) in [("2026-03-02T13:00:00Z", true, false), ("2026-03-02T10:30:00Z", true, true), ("2026-03-02T13:00:00Z", false, true)] {
            var sim = v1.simulation(at: "2026-03-02T10:00:00Z")
            sim.send("candidate.applied", data, at: "2026-03-02T10:00:00Z")
            if ran { sim.advance(to: t(moveAt)) }
            let journey = try XCTUnwrap(sim.journey(flow: "moved", key: "a1"))
            let pending = sim.timers.values.filter { $0.journey == journey.id }
            let moved = Step.migrate(journey, pending: pending, to: v2.machine, target: target, setup: EngineSetup(v2.project), now: t(moveAt))
            let reminder = moved.armTimers.first { $0.id.hasSuffix("states.a2.after[0]") }
            XCTAssertEqual(reminder != nil, rearmed, "\(moveAt) ran: \(ran): \(moved.timeline.map(\.kind))")
            XCTAssertNotNil(moved.armTimers.first { $0.id.hasSuffix("states.a2.after[1]") }, "the goto timer is always armed")
            if !rearmed {
                XCTAssertEqual(moved.timeline.first { $0.kind == "timer_skipped" }?.fields["timer"], "states.a2.after[0]")
            }
        }
    }

    /// An emitted event reaches the flows that start on it, its dotted data keys read as paths
    /// (`application.id` is the application's id), as in a source's `data:`.
    func testAnEmittedEventStartsAnotherFlow() throws {
        let root = NSTemporaryDirectory() + "hirewire-emit-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/flows", withIntermediateDirectories: true)
        try """
            flow: first
            start: {on: candidate.applied, key: application.id}
            states:
              a: {do: [{emit: {type: x.follow_up, data: {application.id: application.id, note.text: "'hello'"}}}], end: done}
            """.write(toFile: root + "/flows/first.yaml", atomically: true, encoding: .utf8)
        try """
            flow: second
            start: {on: x.follow_up, key: application.id ?? "none"}
            require: [application.id]
            states:
              b: {do: [{slack: {text: "follow up {{application.id}}"}}], end: done}
            """.write(toFile: root + "/flows/second.yaml", atomically: true, encoding: .utf8)
        let project = ProjectCompiler.compile(root: root)
        XCTAssertEqual(project.errorCount, 0, "\(project.diagnostics)")
        var sim = Simulation(machines: Array(project.machines.values), setup: EngineSetup(project), clock: t("2026-03-02T10:00:00Z"))
        sim.send("candidate.applied", ["candidate": ["id": "c1"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.journey(flow: "second", key: "a1")?.outcome, "done")
        XCTAssertEqual(sim.actions.first { $0.flow == "second" }?.action.arguments["text"], "follow up a1")
    }

    /// A `choose` that leads back to a state the step already entered runs its actions again;
    /// each run gets its own idempotency key (`#2` after the first), so the outbox keeps both.
    func testAnActionRunTwiceInOneStepGetsTwoKeys() throws {
        let flow = """
            flow: loop
            start: {on: candidate.applied, key: application.id}
            states:
              ping:
                do:
                  - set: {vars: {n: (vars.n ?? 0) + 1}}
                  - slack: {text: ping}
                choose:
                  - {if: vars.n < 2, goto: ping}
                  - else: done
              done: {end: done}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", ["candidate": ["id": "c1"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z")
        let keys = sim.actions.map(\.action.idempotencyKey)
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(Set(keys).count, 2, "\(keys)")
        XCTAssertEqual(keys.last, (keys.first ?? "") + "#2")
        XCTAssertEqual(sim.journey(flow: "loop", key: "a1")?.outcome, "done")
    }

    /// A `choose` that loops for ever is stopped after 100 hops, and what it queued on the way
    /// round goes nowhere: the candidate does not get a hundred emails.
    func testAnEndlessChooseLoopSendsNothing() throws {
        let flow = """
            flow: spin
            start: {on: candidate.applied, key: application.id}
            states:
              c:
                do: [{slack: {text: again}}]
                choose:
                  - {if: has(application.id), goto: c}
                  - else: done
              done: {end: done}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", ["candidate": ["id": "c1"], "application": ["id": "a1"]], at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.actions.count, 0)
        XCTAssertEqual(sim.journey(flow: "spin", key: "a1")?.outcome, "error")
        XCTAssertTrue(sim.kinds("error").first?.fields["reason"]?.stringValue?.contains("100 actions the step queued are dropped") == true,
                      "\(sim.kinds("error"))")
    }

    /// A `between` whose calendar is never open outside the quiet hours (London's working day
    /// is Sydney's night in November) waits for the calendar's own next opening, instead of being
    /// skipped as if the calendar never opened.
    func testABetweenWhoseCalendarAndQuietHoursNeverMeetWaitsForTheCalendar() throws {
        let config = """
            calendars:
              london: {timezone: Europe/London, hours: {mon-fri: "09:00-17:30"}}
            """
        let flow = """
            flow: far
            start: {on: candidate.applied, key: application.id}
            policy:
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
            states:
              a:
                after: {between: [36h, 48h], calendar: london, goto: b}
              b: {end: done}
            """
        var sim = try EngineFixture(flow: flow, config: config).simulation(at: "2026-11-10T10:00:00Z")
        sim.send("candidate.applied", ["candidate": ["id": "c1", "timezone": "Australia/Sydney"], "application": ["id": "a1"]], at: "2026-11-10T10:00:00Z")
        XCTAssertTrue(sim.kinds("timer_skipped").isEmpty, "\(sim.kinds("timer_skipped"))")
        sim.advance(to: t("2026-11-13T00:00:00Z"))
        // 36h after Tuesday 10:00 is Wednesday 22:00 London; the calendar opens Thursday 09:00.
        XCTAssertEqual(sim.kinds("timer_fired").first?.at, t("2026-11-12T09:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "far", key: "a1")?.outcome, "done")
    }

    /// An `at` whose value is there but is no time says so, rather than calling it null.
    func testAnAtThatIsNoTimeSaysSo() throws {
        let flow = """
            flow: deadline
            start: {on: offer.extended, key: application.id}
            states:
              a:
                after: {at: offer.expires_at, goto: b}
              b: {end: done}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("offer.extended", ["candidate": ["id": "c1"], "application": ["id": "a1"], "offer": ["id": "o1", "expires_at": "next Tuesday"]], at: "2026-03-02T10:00:00Z")
        let reason = sim.kinds("timer_skipped").first?.fields["reason"]?.stringValue ?? ""
        XCTAssertTrue(reason.hasPrefix("offer.expires_at is not a time"), reason)
        XCTAssertFalse(reason.contains("Tuesday"), "the value itself is not repeated: \(reason)")
    }

    func testStartRunsEntryActionsAndArmsTimers() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        XCTAssertEqual(sim.actionLog, ["email@2026-03-02T09:00:00Z"])
        XCTAssertTrue(sim.timers.values.contains { $0.due == t("2026-03-04T09:00:00Z") })
        sim.advance(to: t("2026-03-10T00:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-02T09:00:00Z", "email@2026-03-04T09:00:00Z"])
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.outcome, "no_response")
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.state, "expired")
    }

    func testGuardsInOrderAndInternalTransition() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.send("offer.accepted", ["application": ["id": "a1"], "offer": ["id": "o2"]], at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.state, "extended")
        XCTAssertEqual(sim.kinds("log").first?.fields["message"], "accepted another offer")
        // The internal transition kept the 48h timer running.
        sim.send("offer.viewed", ["application": ["id": "a1"]], at: "2026-03-02T11:00:00Z")
        sim.advance(to: t("2026-03-04T09:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.state, "nudge")
        // Guards see the context before the event: o2 from the failed guard was merged, so offer.id is now o2.
        sim.send("offer.accepted", ["application": ["id": "a1"], "offer": ["id": "o1"]], at: "2026-03-04T10:00:00Z")
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.outcome, "hired")
    }

    func testLeavingAStateCancelsItsTimers() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.send("offer.accepted", ["application": ["id": "a1"], "offer": ["id": "o1"]], at: "2026-03-03T09:00:00Z")
        sim.advance(to: t("2026-04-30T00:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-02T09:00:00Z"])
        XCTAssertEqual(sim.kinds("timer_fired").count, 0)
        XCTAssertTrue(sim.timers.isEmpty, "\(sim.timers.keys)")
    }

    /// The timer that moves a journey on is fired, not cancelled: leaving its state cancels only
    /// the state's other timers, and the audit says so.
    func testATimerThatLeavesItsStateIsNotAlsoCancelled() throws {
        let fixture = try EngineFixture(flow: Self.offerFlow)
        var sim = fixture.simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.advance(to: t("2026-03-04T09:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.state, "nudge")
        XCTAssertEqual(sim.kinds("timer_fired").map { $0.fields["timer"] }, ["states.extended.after[0]"])
        XCTAssertEqual(sim.kinds("timer_cancelled").count, 0, "\(sim.kinds("timer_cancelled"))")
        // The pure step agrees: the fired timer's id is not among the ones to cancel.
        let setup = EngineSetup(fixture.project)
        let start = Step.start(fixture.machine, setup: setup, event: event("offer.extended", extended, at: "2026-03-02T09:00:00Z"),
                               key: "a1", journeyId: "j1", now: t("2026-03-02T09:00:00Z"), facts: StepFacts())
        guard let journey = start.journey, let timer = start.armTimers.first(where: { $0.kind == .flow(path: "states.extended.after[0]") }) else {
            return XCTFail("no state timer armed")
        }
        let fired = Step.apply(fixture.machine, setup: setup, journey: journey, input: .timer(timer), now: timer.due, facts: StepFacts())
        XCTAssertFalse(fired.cancelTimers.contains(timer.id))
        XCTAssertEqual(fired.journey?.state, "nudge")
    }

    func testExitFromAnyStateRunsItsActions() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.send("candidate.withdrawn", ["application": ["id": "a1"]], at: "2026-03-05T08:00:00Z")
        let journey = sim.journey(flow: "offer", key: "a1")
        XCTAssertEqual(journey?.outcome, "withdrawn")
        XCTAssertEqual(journey?.state, "nudge")
        XCTAssertEqual(sim.actions.last?.action.arguments["text"], "withdrawn a1")
        XCTAssertTrue(sim.timers.isEmpty)
    }

    func testStartIfFalseIsIgnoredAndRequireMissingIsReview() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", ["application": ["id": "a1"], "offer": ["id": "o1", "tier": "exec"], "candidate": ["id": "c"]], at: "2026-03-02T09:00:00Z")
        XCTAssertTrue(sim.journeys.isEmpty)
        XCTAssertEqual(sim.kinds("ignored").last?.fields["reason"], "not_started")
        sim.send("offer.extended", ["application": ["id": "a2"], "offer": ["id": "o1"], "candidate": ["id": "c"]], at: "2026-03-02T09:01:00Z")
        XCTAssertTrue(sim.journeys.isEmpty)
        XCTAssertEqual(sim.kinds("review").last?.fields["reason"], "missing candidate.email")
    }

    /// `test` and `simulate` heal as `serve` does: news about an application routes again the
    /// event a flow refused for missing data, and takes in again one held for a field its type
    /// requires, both before the news itself.
    func testNewsAboutAnApplicationHealsWhatWaitsForIt() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        // Refused by the flow: no candidate.email.
        sim.send("offer.extended", ["application": ["id": "a2"], "offer": ["id": "o1"], "candidate": ["id": "c2"]], at: "2026-03-02T09:00:00Z")
        XCTAssertTrue(sim.journeys.isEmpty)
        XCTAssertEqual(sim.kinds("review").last?.fields["application"], "a2")
        // News that does not bring the email leaves it waiting, not refused again.
        sim.send("offer.viewed", ["application": ["id": "a2"], "offer": ["id": "o1"]], at: "2026-03-02T09:00:30Z")
        XCTAssertEqual(sim.kinds("review").count, 1)
        // News about another application heals nothing.
        sim.send("offer.viewed", ["application": ["id": "a9"], "offer": ["id": "o9"], "candidate": ["id": "c9", "email": "x@example.com"]], at: "2026-03-02T09:01:00Z")
        XCTAssertTrue(sim.journeys.isEmpty)
        sim.send("offer.viewed", ["application": ["id": "a2"], "candidate": ["email": "bo@example.com"]], at: "2026-03-02T10:00:00Z")
        let journey = try XCTUnwrap(sim.journey(flow: "offer", key: "a2"), "started with the email the news brought")
        XCTAssertEqual(sim.actions.first?.action.arguments["to"], "bo@example.com")
        XCTAssertEqual(journey.state, "extended")
        // The news itself reached the journey after it started: its viewed handler ran.
        XCTAssertEqual(sim.actions.last?.action.arguments["text"], "viewed")
        XCTAssertEqual(sim.kinds("start").count, 1)

        // Held before any flow: an offer without the candidate its type requires.
        sim.send("offer.extended", ["application": ["id": "a3"], "offer": ["id": "o3"]], at: "2026-03-02T11:00:00Z")
        XCTAssertEqual(sim.kinds("review").last?.fields["reason"], "offer.extended without candidate.id")
        XCTAssertNil(sim.journey(flow: "offer", key: "a3"))
        sim.send("offer.viewed", ["application": ["id": "a3"], "offer": ["id": "o3"], "candidate": ["id": "c3", "email": "cy@example.com"]], at: "2026-03-02T11:05:00Z")
        XCTAssertEqual(sim.journey(flow: "offer", key: "a3")?.context["offer"]?["id"], "o3", "taken in again, filled, and started")
        XCTAssertEqual(sim.actions.last?.action.arguments["text"], "viewed", "then the news reached it")
    }

    func testEventsForOtherKeysAndUnstartedJourneys() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.accepted", ["application": ["id": "zz"], "offer": ["id": "o1"]], at: "2026-03-02T09:00:00Z")
        XCTAssertEqual(sim.kinds("ignored").last?.fields["reason"], "not_started")
        XCTAssertEqual(sim.kinds("ignored").last?.key, "zz", "the key that has no journey")
        // Without the field its type requires (the key here), it waits for review, as in serve.
        sim.send("offer.accepted", ["offer": ["id": "o1"]], at: "2026-03-02T09:00:00Z")
        XCTAssertEqual(sim.kinds("review").last?.fields["reason"], "offer.accepted without application.id")
        // Filled from what the application's earlier events said, it goes on.
        sim.send("offer.accepted", ["application": ["id": "zz"]], at: "2026-03-02T09:01:00Z")
        XCTAssertEqual(sim.kinds("review").count, 1)
        XCTAssertEqual(sim.kinds("ignored").last?.fields["reason"], "not_started")
    }

    func testOlderEventDoesNotOverwriteNewerData() throws {
        var sim = try EngineFixture(flow: Self.offerFlow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.advance(to: t("2026-03-02T10:00:00Z"))
        sim.send(event("offer.viewed", ["application": ["id": "a1"], "candidate": ["email": "old@example.com"]], at: "2026-03-01T09:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.context["candidate"]?["email"], "ada@example.com")
        sim.send(event("offer.viewed", ["application": ["id": "a1"], "candidate": ["email": "new@example.com", "phone": nil]], at: "2026-03-02T10:00:00Z"))
        let candidate = sim.journey(flow: "offer", key: "a1")?.context["candidate"]
        XCTAssertEqual(candidate?["email"], "new@example.com")
        XCTAssertEqual(candidate?["id"], "c1")
    }

    func testReentryModes() throws {
        for (mode, journeys, outcome) in [("ignore", 1, nil), ("restart", 2, "restarted"), ("once", 1, nil)] as [(String, Int, String?)] {
            let flow = Self.offerFlow.replacingOccurrences(of: "if: offer.tier != \"exec\"}", with: "reentry: \(mode)}")
            var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T09:00:00Z")
            sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
            sim.send("offer.extended", extended, at: "2026-03-02T10:00:00Z")
            XCTAssertEqual(sim.journeys.count, journeys, mode)
            XCTAssertEqual(sim.journeys.values.first { !$0.isActive }?.outcome, outcome, mode)
            // After the journey ends, once refuses a new one; ignore and restart start again.
            sim.send("offer.accepted", ["application": ["id": "a1"], "offer": ["id": "o1"]], at: "2026-03-02T11:00:00Z")
            sim.send("offer.extended", extended, at: "2026-03-02T12:00:00Z")
            XCTAssertEqual(sim.journeys.count, journeys + (mode == "once" ? 0 : 1), mode)
            if mode == "once" {
                let ignored = sim.kinds("ignored").last
                XCTAssertEqual(ignored?.fields["reason"], "journey_ended")
                // It names the flow and the key whose journey had ended (it named neither).
                XCTAssertEqual(ignored?.flow, "offer")
                XCTAssertEqual(ignored?.key, "a1")
            }
        }
    }

    /// A timer that only acts (no goto) and has fired is not pending: leaving the state later
    /// does not cancel it or record it as cancelled; the state's pending timer is.
    func testLeavingAStateCancelsOnlyItsPendingTimers() throws {
        let flow = """
            flow: o
            start: {on: offer.extended, key: application.id}
            states:
              a:
                on: {offer.viewed: b}
                after:
                  - {delay: 1h, do: [{slack: {text: nudge}}]}
                  - {delay: 3d, goto: b}
              b: {end: seen}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.send("offer.viewed", ["application": ["id": "a1"]], at: "2026-03-02T12:00:00Z")
        XCTAssertEqual(sim.kinds("timer_fired").map { $0.fields["timer"] }, ["states.a.after[0]"])
        // The state's pending timer when it is left, then the journey's timeout as it ends.
        XCTAssertEqual(sim.kinds("timer_cancelled").map { $0.fields["timer"] }, ["states.a.after[1]", "timeout"])
        XCTAssertEqual(sim.journey(flow: "o", key: "a1")?.outcome, "seen")
    }

    /// Ending a journey cancels its journey-wide timers that are still pending, and says so;
    /// one that fired (or was skipped) is not pending, and a timeout that ends it is not either.
    func testEndingCancelsTheJourneyWideTimersStillPending() throws {
        let flow = """
            flow: o
            start: {on: offer.extended, key: application.id}
            timeout: 5d
            after:
              - {delay: 1h, do: [{slack: {text: nudge}}]}
              - {delay: 2d, do: [{slack: {text: later}}]}
              - {at: offer.expires_at, do: [{slack: {text: never}}]}
            states:
              a: {on: {offer.viewed: b}}
              b: {end: seen}
            """
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        XCTAssertEqual(sim.kinds("timer_skipped").map { $0.fields["timer"] }, ["after[2]"], "no expires_at")
        sim.send("offer.viewed", ["application": ["id": "a1"]], at: "2026-03-02T12:00:00Z")
        XCTAssertEqual(sim.kinds("timer_fired").map { $0.fields["timer"] }, ["after[0]"])
        XCTAssertEqual(sim.kinds("timer_cancelled").map { $0.fields["timer"] }, ["timeout", "after[1]"])
        // Stored and read back, the journey still knows which of its timers were spent.
        let ended = try XCTUnwrap(sim.journey(flow: "o", key: "a1"))
        XCTAssertEqual(Journey(encoded: ended.encoded)?.spentTimers, ["after[2]", "after[0]"])
        XCTAssertEqual(Journey(encoded: Value.parseStoredJSON(ended.encodedJSON) ?? .null)?.spentTimers, ["after[2]", "after[0]"])

        var timedOut = try EngineFixture(flow: flow).simulation(at: "2026-03-02T09:00:00Z")
        timedOut.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        timedOut.advance(to: Timestamp.parse("2026-03-08T00:00:00Z") ?? .distantFuture)
        XCTAssertEqual(timedOut.journey(flow: "o", key: "a1")?.outcome, "timed_out")
        XCTAssertEqual(timedOut.kinds("timer_cancelled").map { $0.fields["timer"] }, [], "every timer fired or was skipped")
    }

    /// `reentry: restart` needs an event that would start a journey: one missing a `require`
    /// field is applied to the running journey instead of ending it.
    func testRestartNeedsRequireMet() throws {
        let flow = Self.offerFlow.replacingOccurrences(of: "if: offer.tier != \"exec\"}", with: "reentry: restart}")
        var sim = try EngineFixture(flow: flow).simulation(at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", extended, at: "2026-03-02T09:00:00Z")
        sim.send("offer.extended", ["candidate": ["id": "c1"], "application": ["id": "a1"], "offer": ["id": "o1", "tier": "B"]], at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.journeys.count, 1)
        XCTAssertTrue(sim.journey(flow: "offer", key: "a1")?.isActive == true)
        XCTAssertEqual(sim.kinds("end").count, 0)
        XCTAssertEqual(sim.kinds("review").count, 0)
        // Its 48h timer still runs.
        sim.advance(to: t("2026-03-04T09:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "offer", key: "a1")?.state, "nudge")
    }

    /// A flow of three states with journey-wide timers `after` (YAML list items), for the migration tests.
    private func version(_ after: String, timeout: String, migrate: String) -> String {
        """
        flow: m
        start: {on: offer.extended, key: application.id}
        timeout: \(timeout)
        after:
        \(after)
        \(migrate)
        states:
          a:
            on: {offer.viewed: b}
          b:
            on: {offer.accepted: done}
            after: {delay: 1d, goto: done}
          done: {end: hired}
        """
    }

    /// A journey of `v1` started at 09:00 on 2 March, the moment a day later it migrates at, and
    /// its timers still pending then (those due by then have fired, as a running engine does).
    private func startedOnVersion(_ v1: EngineFixture) throws -> (journey: Journey, t0: Date, later: Date, pending: [TimerRecord]) {
        let t0 = t("2026-03-02T09:00:00Z")
        let start = Step.start(v1.machine, setup: EngineSetup(v1.project), event: event("offer.extended", extended, at: "2026-03-02T09:00:00Z"),
                               key: "a1", journeyId: "j1", now: t0, facts: StepFacts())
        let later = t0.addingTimeInterval(86_400)
        return (try XCTUnwrap(start.journey), t0, later, start.armTimers.filter { $0.due > later })
    }

    /// `migrate:` moves journey-wide timers to the new version (the old ones cancelled, the new
    /// ones armed from the start unless already due), and a final target ends the journey.
    func testMigrateMovesJourneyWideTimersAndEndsAtAFinalTarget() throws {
        let v1 = try EngineFixture(flow: version("  - {delay: 3d, do: [{slack: {text: v1}}]}", timeout: "10d", migrate: ""))
        let v2 = try EngineFixture(flow: version("  - {delay: 5d, do: [{slack: {text: v2}}]}\n  - {delay: 12h, do: [{slack: {text: soon}}]}",
                                                 timeout: "20d", migrate: "migrate: {a: b}"))
        let v3 = try EngineFixture(flow: version("  - {delay: 5d, do: [{slack: {text: v3}}]}", timeout: "20d", migrate: "migrate: {a: done}"))
        let (journey, t0, later, pending) = try startedOnVersion(v1)
        let moved = Step.migrate(journey, pending: pending, to: v2.machine, target: try XCTUnwrap(v2.machine.stateIndex["b"]),
                                 setup: EngineSetup(v2.project), now: later)
        XCTAssertEqual(moved.journey?.version, v2.machine.version)
        XCTAssertTrue(moved.cancelTimers.contains("j1/0/after[0]"), "\(moved.cancelTimers)")
        XCTAssertTrue(moved.cancelTimers.contains("j1/0/timeout"))
        let armed = Dictionary(moved.armTimers.map { ($0.id, $0.due) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(armed["j1/0/after[0]"], t0.addingTimeInterval(5 * 86_400), "the new version's reminder, from the start")
        XCTAssertNil(armed["j1/0/after[1]"], "already due: not repeated")
        XCTAssertEqual(armed["j1/0/timeout"], t0.addingTimeInterval(20 * 86_400))
        XCTAssertNotNil(moved.armTimers.first { $0.kind == .flow(path: "states.b.after[0]") })
        XCTAssertEqual(moved.timeline.filter { $0.kind == "timer_skipped" }.map { $0.fields["timer"] }, ["after[1]"])
        let ended = Step.migrate(journey, pending: pending, to: v3.machine, target: try XCTUnwrap(v3.machine.stateIndex["done"]),
                                 setup: EngineSetup(v3.project), now: later)
        XCTAssertEqual(ended.journey?.outcome, "hired")
        XCTAssertFalse(ended.journey?.isActive ?? true)
        XCTAssertTrue(ended.armTimers.isEmpty)
    }

    /// A new version's journey-wide timer already due at migration still fires, once and now,
    /// when the old version's timer at its place had not fallen due yet: the reminder was owed.
    func testMigrateFiresAnOwedJourneyWideTimerNow() throws {
        let v1 = try EngineFixture(flow: version("  - {delay: 2d, do: [{slack: {text: v1 pending}}]}\n  - {delay: 6h, do: [{slack: {text: v1 fired}}]}",
                                                 timeout: "30d", migrate: ""))
        let v2 = try EngineFixture(flow: version("  - {delay: 12h, do: [{slack: {text: owed}}]}\n  - {delay: 18h, do: [{slack: {text: done before}}]}",
                                                 timeout: "30d", migrate: "migrate: {a: b}"))
        let (journey, _, later, pending) = try startedOnVersion(v1)
        let moved = Step.migrate(journey, pending: pending, to: v2.machine, target: try XCTUnwrap(v2.machine.stateIndex["b"]),
                                 setup: EngineSetup(v2.project), now: later)
        let armed = Dictionary(moved.armTimers.map { ($0.id, $0.due) }, uniquingKeysWith: { a, _ in a })
        // after[0]: v1's was due at 2d, still pending at 1d, so v2's 12h reminder is owed: now.
        XCTAssertEqual(armed["j1/0/after[0]"], later, "\(armed)")
        // after[1]: v1's fired at 6h; v2's 18h one is past too and is not repeated.
        XCTAssertNil(armed["j1/0/after[1]"])
        XCTAssertEqual(moved.timeline.filter { $0.kind == "timer_skipped" }.map { $0.fields["timer"] }, ["after[1]"])
    }

    /// The old version's timer was still pending because the engine was down when it fell due:
    /// the new version's timer at its place is owed all the same, and goes out when its own
    /// calendar next opens, not in the middle of the night.
    func testAnOwedTimerWaitsForItsCalendar() throws {
        let v1 = try EngineFixture(flow: version("  - {delay: 20h, do: [{slack: {text: v1 overdue}}]}", timeout: "30d", migrate: ""),
                                   config: PolicyTests.config)
        let v2 = try EngineFixture(flow: version("  - {delay: 12h, calendar: business-hours, do: [{slack: {text: owed}}]}", timeout: "30d",
                                                 migrate: "migrate: {a: b}"), config: PolicyTests.config)
        let t0 = t("2026-03-02T09:00:00Z")
        let start = Step.start(v1.machine, setup: EngineSetup(v1.project), event: event("offer.extended", extended, at: "2026-03-02T09:00:00Z"),
                               key: "a1", journeyId: "j1", now: t0, facts: StepFacts())
        let journey = try XCTUnwrap(start.journey)
        // Down since before 05:00 UTC on Tuesday: nothing fired, every timer is still pending.
        let restart = t("2026-03-03T09:00:00Z")
        let moved = Step.migrate(journey, pending: start.armTimers, to: v2.machine, target: try XCTUnwrap(v2.machine.stateIndex["b"]),
                                 setup: EngineSetup(v2.project), now: restart)
        let armed = Dictionary(moved.armTimers.map { ($0.id, $0.due) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(armed["j1/0/after[0]"], t("2026-03-03T14:00:00Z"), "09:00 in New York, when business hours open: \(armed)")
    }

    func testStepIsDeterministic() throws {
        let fixture = try EngineFixture(flow: Self.offerFlow)
        let setup = EngineSetup(fixture.project)
        let e = event("offer.extended", extended, at: "2026-03-02T09:00:00Z", id: "e1")
        let a = Step.start(fixture.machine, setup: setup, event: e, key: "a1", journeyId: "jrn_1", now: t("2026-03-02T09:00:00Z"))
        let b = Step.start(fixture.machine, setup: setup, event: e, key: "a1", journeyId: "jrn_1", now: t("2026-03-02T09:00:00Z"))
        XCTAssertEqual(a.journey, b.journey)
        XCTAssertEqual(a.actions, b.actions)
        XCTAssertEqual(a.armTimers, b.armTimers)
        XCTAssertEqual(a.timeline, b.timeline)
        XCTAssertEqual(a.actions.first?.idempotencyKey, "jrn_1:1:states.extended.do[0]")
    }

    func testStaleTimerOfAnEarlierEntryIsDiscarded() throws {
        let fixture = try EngineFixture(flow: Self.offerFlow)
        let setup = EngineSetup(fixture.project)
        let started = Step.start(fixture.machine, setup: setup, event: event("offer.extended", extended, at: "2026-03-02T09:00:00Z"),
                                 key: "a1", journeyId: "j", now: t("2026-03-02T09:00:00Z"))
        guard let journey = started.journey, var timer = started.armTimers.first(where: { $0.stateScoped }) else { return XCTFail() }
        timer.entry -= 1
        let fired = Step.apply(fixture.machine, setup: setup, journey: journey, input: .timer(timer), now: t("2026-03-04T09:00:00Z"))
        XCTAssertEqual(fired.journey?.state, "extended")
        XCTAssertTrue(fired.actions.isEmpty)
    }

    /// An action's chain is its key without `:path`: the step that queued it. A key of another
    /// shape (older stores) is a chain of its own.
    func testAnActionsChainIsItsStepOfItsKey() {
        func chain(_ key: String, _ path: String) -> String {
            PlannedAction(connector: "email", arguments: [:], idempotencyKey: key, path: path, audience: .candidate, template: nil,
                          retryAttempts: nil, retryBackoff: nil, entry: 1, order: 0, candidate: nil).chain
        }
        XCTAssertEqual(chain("jrn_1:3:states.extended.do[0]", "states.extended.do[0]"), "jrn_1:3")
        XCTAssertEqual(chain("jrn_1:3:états.ü.do[1]", "états.ü.do[1]"), "jrn_1:3")
        XCTAssertEqual(chain("jrn_1:3:after[0].do[0]#2", "after[0].do[0]"), "jrn_1:3:after[0].do[0]#2", "a suffix that is not the path")
        XCTAssertEqual(chain("jrn_1:3xstates.a.do[0]", "states.a.do[0]"), "jrn_1:3xstates.a.do[0]", "no colon before the path")
        XCTAssertEqual(chain("do[0]", "do[0]"), "do[0]", "nothing before the path")
        XCTAssertEqual(chain(":do[0]", "do[0]"), "")
        XCTAssertEqual(chain("legacy-key", ""), "legacy-key", "no colon at the end")
        XCTAssertEqual(chain("jrn_1:4:", ""), "jrn_1:4")
    }

    /// A journey key that is a path over the event's entities is read in place: it must give
    /// what evaluating the key expression gives, for every shape of event.
    func testAPathKeyReadsWhatTheEvaluatorReads() throws {
        let events: [Value] = [
            ["application": ["id": "a1"]],
            ["application": ["id": 42]],
            ["application": ["id": ""]],
            ["application": ["id": ["x", "y"]]],
            ["application": "not an object"],
            ["candidate": ["id": "c1"]],
            [:],
        ]
        for key in ["application.id", "candidate.id", "event.data.application.id ?? event.id", "event.type", "application.id ?? candidate.id"] {
            let fixture = try EngineFixture(flow: """
                flow: keyed
                start: {on: offer.extended, key: "\(key)"}
                initial: s
                states:
                  s: {on: {offer.viewed: done}}
                  done: {end: ok}
                """)
            for data in events {
                let e = event("offer.extended", data, at: "2026-03-02T12:00:00Z", id: "e1")
                let evaluated = fixture.machine.start.key.evaluate(EventRoot.context(e, now: e.occurredAt))
                let expected: String? = switch evaluated {
                case .null: nil
                case .string(let s): s.isEmpty ? nil : s
                default: evaluated.displayString
                }
                XCTAssertEqual(Step.key(fixture.machine, event: e, now: e.occurredAt), expected, "key \(key) of \(data)")
            }
        }
    }
}
