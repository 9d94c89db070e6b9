import Foundation
import XCTest
@testable import HirewireEngine
import HirewireLanguage

final class PolicyTests: XCTestCase {
    static let config = """
        default_timezone: America/New_York
        calendars:
          business-hours:
            timezone: candidate.timezone
            hours: {mon-fri: "09:00-17:30"}
        """

    func flow(policy: String, states: String, after: String = "") -> String {
        """
        flow: p
        start: {on: candidate.applied, key: application.id}
        require: [candidate.email]
        policy:
        \(policy)
        \(after)
        states:
        \(states)
        """
    }

    let applied: Value = ["candidate": ["id": "c1", "email": "ada@example.com", "timezone": "Europe/London"], "application": ["id": "a1"]]

    func testQuietHoursDeferCandidateMessagesButNotTeamOnes() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: """
                       a:
                         do:
                           - email: {to: "{{candidate.email}}", subject: s, text: t}
                           - slack: {text: "team"}
                           - {sms: {to: "+1", text: t}, exempt: true}
                         on: {candidate.replied: b}
                       b: {end: done}
                     """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:30:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:30:00Z")
        XCTAssertEqual(sim.actionLog, ["slack@2026-03-02T21:30:00Z", "sms@2026-03-02T21:30:00Z"])
        XCTAssertEqual(sim.kinds("deferred").first?.fields["until"], "2026-03-03T08:00:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actionLog.last, "email@2026-03-03T08:00:00Z")
    }

    /// A message queued on the way out of a state — a timer's or a transition's `do` with a
    /// `goto`, a `choose` state's `do` — belongs to the state entry the step lands in: deferred
    /// at night, it goes out at 08:00 while the journey is still there (it used to be dropped
    /// every time, the queuing entry being left by the same step), and is dropped once it moves on.
    func testMessagesQueuedOnTheWayOutOfAStateBelongToWhereTheStepLands() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: """
                       a:
                         on:
                           candidate.replied: {goto: b, do: [{email: {to: "{{candidate.email}}", subject: thanks, text: t}}]}
                         after:
                           - {delay: 5h, goto: b, do: [{email: {to: "{{candidate.email}}", subject: reminder, text: t}}]}
                       b:
                         on: {candidate.hired: c}
                       c:
                         do: [{email: {to: "{{candidate.email}}", subject: routed, text: t}}]
                         choose:
                           - {if: has(candidate.email), goto: d}
                           - else: d
                       d:
                         on: {candidate.withdrawn: e}
                       e: {end: done}
                     """)
        // The timer fires at 02:00 London: its reminder waits for 08:00 and goes out in b.
        var timer = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        timer.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        timer.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(timer.journey(flow: "p", key: "a1")?.state, "b")
        XCTAssertEqual(timer.actions.map { $0.action.arguments["subject"] }, ["reminder"])
        XCTAssertEqual(timer.actionLog, ["email@2026-03-03T08:00:00Z"])
        // A reply at 21:30 moves the journey to b with a thank-you, which waits for 08:00; a hire
        // at 23:00 routes through the choose state c to d, whose message waits too; the thank-you,
        // whose entry (b) was left, is dropped.
        var moved = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T19:00:00Z")
        moved.send("candidate.applied", applied, at: "2026-03-02T19:00:00Z")
        moved.send("candidate.replied", applied, at: "2026-03-02T19:30:00Z")
        XCTAssertEqual(moved.actions.map { $0.action.arguments["subject"] }, ["thanks"], "sent at once, before quiet hours")
        var night = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T19:00:00Z")
        night.send("candidate.applied", applied, at: "2026-03-02T19:00:00Z")
        night.send("candidate.replied", applied, at: "2026-03-02T21:30:00Z")
        night.send("candidate.hired", applied, at: "2026-03-02T23:00:00Z")
        night.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(night.journey(flow: "p", key: "a1")?.state, "d")
        XCTAssertEqual(night.actions.map { $0.action.arguments["subject"] }, ["routed"])
        XCTAssertEqual(night.actionLog, ["email@2026-03-03T08:00:00Z"])
        XCTAssertEqual(night.kinds("deferred_dropped").map { $0.fields["path"] }, ["states.a.on.candidate.replied.do[0]"])
    }

    /// At release a deferred message's `if` is asked again over the journey's context, but an
    /// `if` about the event that queued it held for that event and is not asked of a timer step.
    func testADeferredMessagesIfAboutItsEventStillHoldsAtRelease() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: """
                       a:
                         on:
                           candidate.replied:
                             do:
                               - {email: {to: "{{candidate.email}}", subject: event, text: t}, if: has(event.data.candidate.first_name)}
                               - {email: {to: "{{candidate.email}}", subject: context, text: t}, if: has(candidate.first_name)}
                           candidate.withdrawn: {do: [{slack: {text: noted}}]}
                           candidate.hired: b
                       b: {end: done}
                     """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T19:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T19:00:00Z")
        sim.send("candidate.replied", ["candidate": ["id": "c1", "first_name": "Ada"], "application": ["id": "a1"]], at: "2026-03-02T21:30:00Z")
        // Before 08:00 the context loses the first name: that `if` no longer holds.
        sim.send("candidate.withdrawn", ["candidate": ["id": "c1", "first_name": nil], "application": ["id": "a1"]], at: "2026-03-02T23:00:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actions.filter { $0.action.connector == "email" }.map { $0.action.arguments["subject"] }, ["event"])
        XCTAssertEqual(sim.kinds("deferred_dropped").map { $0.fields["reason"] }, ["if no longer holds"])
    }

    /// The same through a `let`: an `if` that reads a name computed from the event is not asked
    /// again at release either (it was, with no event, and the message was dropped).
    func testADeferredMessagesIfThroughALetAboutItsEventStillHoldsAtRelease() throws {
        let f = """
            flow: p
            start: {on: candidate.applied, key: application.id}
            require: [candidate.email]
            let:
              named: has(event.data.candidate.first_name)
              told: named && true
            policy:
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
            states:
              a:
                on:
                  candidate.replied:
                    do: [{email: {to: "{{candidate.email}}", subject: event, text: t}, if: told}]
                  candidate.hired: b
              b: {end: done}
            """
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T19:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T19:00:00Z")
        sim.send("candidate.replied", ["candidate": ["id": "c1", "first_name": "Ada"], "application": ["id": "a1"]], at: "2026-03-02T21:30:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T08:00:00Z"])
        XCTAssertEqual(sim.kinds("deferred_dropped").count, 0)
    }

    /// A start that goes to review stores no journey, but its `on_invalid` actions still go out:
    /// at once by day, at the end of quiet hours by night (there was no journey to release it).
    func testOnInvalidActionsGoOutAndWaitForQuietHoursToo() throws {
        let f = """
            flow: p
            start: {on: candidate.applied, key: application.id}
            require: [candidate.email]
            policy:
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
              on_invalid:
                - {sms: {to: "+44 7700 900123", text: "We need your email address"}}
                - {task: {title: "Get the email of {{application.id}}"}}
            states:
              a: {on: {candidate.hired: b}}
              b: {end: done}
            """
        let noEmail: Value = ["candidate": ["id": "c1", "timezone": "Europe/London"], "application": ["id": "a1"]]
        var day = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        day.send("candidate.applied", noEmail, at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(day.actionLog, ["sms@2026-03-02T10:00:00Z", "task@2026-03-02T10:00:00Z"])
        var night = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T22:00:00Z")
        night.send("candidate.applied", noEmail, at: "2026-03-02T22:00:00Z")
        night.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertNil(night.journey(flow: "p", key: "a1"))
        XCTAssertEqual(night.actionLog, ["task@2026-03-02T22:00:00Z", "sms@2026-03-03T08:00:00Z"])
        XCTAssertEqual(night.actions.last?.key, "a1")
    }

    func testDeferredMessageIsDroppedWhenTheJourneyMovedOn() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: """
                       a:
                         do: [{email: {to: "{{candidate.email}}", subject: s, text: t}}]
                         on: {candidate.replied: b}
                       b:
                         do: [{slack: {text: moved}}]
                         on: {candidate.hired: c}
                       c: {end: done}
                     """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:30:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:30:00Z")
        sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T23:00:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["slack@2026-03-02T23:00:00Z"])
        XCTAssertEqual(sim.kinds("deferred_dropped").count, 1)
        // Withdrawn when the journey left the state, not at its release the next morning.
        XCTAssertEqual(sim.kinds("deferred_dropped").first?.at, t("2026-03-02T23:00:00Z"))
    }

    /// Quiet hours 20:00–08:00 and one candidate message per 72h.
    static let quietOneMessage = """
          quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
          max_messages: {count: 1, per: 72h}
        """

    /// Leaving a held message's scope withdraws it at once: its timer is no longer pending and
    /// it stops counting toward `max_messages` then, not at its release hours later.
    func testAHeldMessageIsWithdrawnWhenItsScopeIsLeft() throws {
        let f = flow(policy: Self.quietOneMessage, states: """
              a:
                do: [{email: {to: "{{candidate.email}}", subject: first, text: t}}]
                on: {candidate.replied: b}
              b:
                do: [{sms: {to: "+15550100", text: "quick question"}, exempt: true}]
                on: {candidate.stage_changed: c}
              c:
                do: [{email: {to: "{{candidate.email}}", subject: later, text: t}}]
                on: {candidate.hired: d}
              d: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        let journey = try XCTUnwrap(sim.journey(flow: "p", key: "a1"))
        XCTAssertEqual(journey.held.map(\.path), ["states.a.do[0]"])
        XCTAssertEqual(sim.timers.values.filter(\.kind.isDeferred).count, 1)
        sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T22:00:00Z")
        XCTAssertEqual(sim.timers.values.filter(\.kind.isDeferred).count, 0, "the held email's timer is cancelled")
        XCTAssertEqual(sim.journey(flow: "p", key: "a1")?.held, [])
        // At 23:00, still quiet hours: the email of `c` is held, and the cap has room for it
        // again because the first one was withdrawn.
        sim.send("candidate.stage_changed", ["application": ["id": "a1"]], at: "2026-03-02T23:00:00Z")
        XCTAssertEqual(sim.kinds("capped").count, 0)
        sim.send("candidate.hired", ["application": ["id": "a1"]], at: "2026-03-02T23:30:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["sms@2026-03-02T22:00:00Z"])
        XCTAssertEqual(sim.kinds("deferred_dropped").map { $0.fields["reason"] }, ["left the state", "left the state"])
        XCTAssertEqual(sim.timers.count, 0)
    }

    /// A held message the journey leaves stops counting before the next state's message is
    /// queued in the same step: it was withdrawn only at the step's end, after the next one had
    /// been capped by it, and the candidate got neither.
    func testALeftHeldMessageDoesNotCapTheNextStatesMessage() throws {
        let f = flow(policy: """
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
              max_messages: {count: 1, per: 24h}
            """, states: """
              a:
                do: [{email: {to: "{{candidate.email}}", subject: first, text: t}}]
                on: {candidate.replied: b}
              b:
                do: [{email: {to: "{{candidate.email}}", subject: second, text: t}}]
                on: {candidate.hired: c}
              c: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T21:01:00Z")
        XCTAssertEqual(sim.kinds("capped").count, 0, "\(sim.timeline.map(\.kind))")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actions.map { $0.action.arguments["subject"] }, ["second"])
    }

    /// A transition's message into a final state, held by quiet hours, goes out at their end
    /// as the final state's own do (it was dropped with the journey's end).
    func testAHeldMessageOnTheWayIntoAFinalStateStillGoesOut() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}", states: """
              a:
                on:
                  candidate.replied: {goto: fin, do: [{email: {to: "{{candidate.email}}", subject: bye, text: t}}]}
              fin: {do: [{email: {to: "{{candidate.email}}", subject: final, text: t}}], end: fin}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T22:00:00Z")
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(Set(sim.actions.map { $0.action.arguments["subject"] }), ["bye", "final"])
        XCTAssertEqual(sim.kinds("deferred_dropped").count, 0)
    }

    /// A `choose` state's `do` belongs to the state the step lands in: landing in a final state,
    /// a message quiet hours held goes out at their end, as the final state's own would.
    func testAChooseStatesHeldMessageLandingInAFinalStateGoesOut() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: """
                       a:
                         do: [{email: {to: "{{candidate.email}}", subject: s, text: t}}]
                         choose: [{else: b}]
                       b: {end: done}
                     """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:30:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:30:00Z")
        XCTAssertEqual(sim.timers.values.filter(\.kind.isDeferred).count, 1)
        XCTAssertEqual(sim.kinds("deferred").count, 1)
        XCTAssertEqual(sim.kinds("deferred_dropped").count, 0)
        sim.advance(to: t("2026-03-03T12:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T08:00:00Z"])
    }

    func testBadTimezoneFallsBackToDefault() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: "  a: {do: [{email: {to: \"{{candidate.email}}\", subject: s, text: t}}], end: done}")
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-03T02:00:00Z")
        var data = applied
        data = data.merging(["candidate": ["timezone": "Mars/Base"]])
        sim.send("candidate.applied", data, at: "2026-03-03T02:00:00Z")   // 21:00 in New York: quiet
        XCTAssertEqual(sim.kinds("bad_timezone").first?.fields["fallback"], "America/New_York")
        sim.advance(to: t("2026-03-04T00:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T13:00:00Z"])   // 08:00 EST
        // With no default_timezone the fallback is UTC, and is called that (Foundation says GMT).
        var utc = try EngineFixture(flow: f).simulation(at: "2026-03-03T02:00:00Z")
        utc.send("candidate.applied", data, at: "2026-03-03T02:00:00Z")
        XCTAssertEqual(utc.kinds("bad_timezone").first?.fields["fallback"], "UTC")
    }

    func testABadTimezoneIsRecordedOncePerStepHoweverOftenItIsAsked() throws {
        let f = flow(policy: "  quiet_hours: {from: \"20:00\", to: \"08:00\", timezone: candidate.timezone}",
                     states: "  a: {do: [{email: {to: \"{{candidate.email}}\", subject: s, text: t}}, {sms: {to: \"+15550100\", text: t}}], end: done}")
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-03T15:00:00Z")
        sim.send("candidate.applied", applied.merging(["candidate": ["timezone": "Mars/Base"]]), at: "2026-03-03T15:00:00Z")
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T15:00:00Z", "sms@2026-03-03T15:00:00Z"])
        XCTAssertEqual(sim.kinds("bad_timezone").count, 1)
        XCTAssertEqual(sim.kinds("bad_timezone").first?.fields["for"], "quiet hours")
    }

    /// A message deferred by quiet hours counts once, from when it was queued: its release
    /// does not count it again.
    func testADeferredMessageCountsOnceTowardTheCap() throws {
        let f = flow(policy: """
              quiet_hours: {from: "20:00", to: "08:00", timezone: candidate.timezone}
              max_messages: {count: 2, per: 72h}
            """, states: """
              a:
                do: [{email: {to: "{{candidate.email}}", subject: first, text: t}}]
                after: {delay: 36h, goto: b}
              b:
                do: [{email: {to: "{{candidate.email}}", subject: second, text: t}}]
                on: {candidate.hired: c}
              c: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        sim.advance(to: t("2026-03-05T12:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T08:00:00Z", "email@2026-03-04T09:00:00Z"], "\(sim.kinds("capped"))")
        XCTAssertEqual(sim.kinds("capped").count, 0)
    }

    /// A deferred message dropped at its release (the journey moved on) no longer counts.
    func testADroppedDeferredMessageStopsCounting() throws {
        let f = flow(policy: Self.quietOneMessage, states: """
              a:
                do: [{email: {to: "{{candidate.email}}", subject: first, text: t}}]
                on: {candidate.replied: b}
              b:
                on: {candidate.stage_changed: c}
              c:
                do: [{email: {to: "{{candidate.email}}", subject: later, text: t}}]
                on: {candidate.hired: d}
              d: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T21:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T21:00:00Z")
        sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T22:00:00Z")
        sim.advance(to: t("2026-03-03T09:00:00Z"))
        XCTAssertEqual(sim.kinds("deferred_dropped").count, 1)
        sim.send("candidate.stage_changed", ["application": ["id": "a1"]], at: "2026-03-03T10:00:00Z")
        XCTAssertEqual(sim.actionLog, ["email@2026-03-03T10:00:00Z"])
        XCTAssertEqual(sim.kinds("capped").count, 0)
    }

    func testFrequencyCapRunsInsteadOncePerWindow() throws {
        let f = flow(policy: """
              max_messages: {count: 2, per: 72h, instead: [{task: {title: "Call instead"}}]}
            """, states: """
              a:
                do: [{email: {to: "{{candidate.email}}", subject: s, text: t}}]
                on: {candidate.replied: a}
                after: {delay: 3d, goto: done}
              done: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")
        for hour in 11...14 { sim.send("candidate.replied", ["application": ["id": "a1"]], at: "2026-03-02T\(hour):00:00Z") }
        XCTAssertEqual(sim.actions.map(\.action.connector), ["email", "email", "task"])
        XCTAssertEqual(sim.kinds("capped").count, 3)
    }

    /// An exempt message (a notice the candidate must get) is outside the cap both ways: it is
    /// never capped, and it does not use up the allowance of the messages that are.
    func testExemptMessagesDoNotCountTowardTheCap() throws {
        let f = flow(policy: """
              max_messages: {count: 1, per: 72h, instead: [{task: {title: "Call instead"}}]}
            """, states: """
              a:
                do:
                  - {email: {to: "{{candidate.email}}", subject: notice, text: t}, exempt: true}
                  - {email: {to: "{{candidate.email}}", subject: welcome, text: t}}
                  - {email: {to: "{{candidate.email}}", subject: extra, text: t}}
                on: {candidate.hired: done}
              done: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.actions.map { $0.action.connector == "task" ? $0.action.arguments["title"] : $0.action.arguments["subject"] },
                       ["notice", "welcome", "Call instead"])
        XCTAssertEqual(sim.kinds("capped").map { $0.fields["path"] }, ["states.a.do[2]"])
    }

    func testTimerAtNullIsSkippedAndPastFiresAtOnce() throws {
        let f = flow(policy: "  on_invalid: []", states: """
              a:
                after:
                  - {at: interview.starts_at - 24h, do: [{slack: {text: reminder}}]}
                  - {delay: 30d, goto: done}
              done: {end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.kinds("timer_skipped").count, 1)
        var past = applied
        past = past.merging(["application": ["id": "a2"], "interview": ["starts_at": "2026-03-02T12:00:00Z"]])
        sim.send("candidate.applied", past, at: "2026-03-02T10:00:00Z")
        sim.advance(to: t("2026-03-02T10:00:01Z"))
        XCTAssertEqual(sim.actionLog, ["slack@2026-03-02T10:00:00Z"])
    }

    func testLateTimerExpiresAfterAnOutage() throws {
        let f = flow(policy: "  on_invalid: []", states: """
              a:
                after: {delay: 1h, late: 10m, goto: b}
              b: {do: [{slack: {text: late}}], end: done}
            """)
        let fixture = try EngineFixture(flow: f, config: Self.config)
        let setup = EngineSetup(fixture.project)
        let started = Step.start(fixture.machine, setup: setup, event: event("candidate.applied", applied, at: "2026-03-02T10:00:00Z"),
                                 key: "a1", journeyId: "j", now: t("2026-03-02T10:00:00Z"))
        guard let journey = started.journey, let timer = started.armTimers.first(where: { $0.stateScoped }) else { return XCTFail() }
        let onTime = Step.apply(fixture.machine, setup: setup, journey: journey, input: .timer(timer), now: t("2026-03-02T11:05:00Z"))
        XCTAssertEqual(onTime.journey?.outcome, "done")
        let late = Step.apply(fixture.machine, setup: setup, journey: journey, input: .timer(timer), now: t("2026-03-02T11:30:00Z"))
        XCTAssertEqual(late.journey?.state, "a")
        XCTAssertEqual(late.timeline.first?.kind, "timer_expired")
    }

    func testRenderFailureDeadLettersAndOnErrorGoes() throws {
        let f = flow(policy: "  on_invalid: []", states: """
              a:
                do: [{slack: {text: "{{env.HOOK}}"}, on_error: {goto: b}}]
                on: {candidate.replied: b}
              b: {do: [{task: {title: fallback}}], end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config + "\nenv: [HOOK]\n").simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")
        XCTAssertEqual(sim.kinds("action_failed").first?.fields["dead_letter"], true)
        XCTAssertEqual(sim.actions.map(\.action.connector), ["task"])
        XCTAssertEqual(sim.journey(flow: "p", key: "a1")?.outcome, "done")
    }

    func testTimeoutEndsTheJourney() throws {
        let f = "flow: p\nstart: {on: candidate.applied, key: application.id}\ntimeout: 2d\nstates:\n  a: {on: {candidate.hired: b}}\n  b: {end: hired}\n"
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")
        sim.advance(to: t("2026-03-10T00:00:00Z"))
        XCTAssertEqual(sim.journey(flow: "p", key: "a1")?.outcome, "timed_out")
        XCTAssertEqual(sim.kinds("end").first?.at, t("2026-03-04T10:00:00Z"))
    }

    func testBetweenWindowWithCalendar() throws {
        let f = flow(policy: "  on_invalid: []", states: """
              a:
                after: {between: [36h, 48h], calendar: business-hours, goto: b}
              b: {do: [{slack: {text: nudge}}], end: done}
            """)
        var sim = try EngineFixture(flow: f, config: Self.config).simulation(at: "2026-03-02T10:00:00Z")
        sim.send("candidate.applied", applied, at: "2026-03-02T10:00:00Z")   // Monday → Tuesday 22:00 → Wednesday 09:00 London
        sim.advance(to: t("2026-03-10T00:00:00Z"))
        XCTAssertEqual(sim.actionLog, ["slack@2026-03-04T09:00:00Z"])
        XCTAssertEqual(sim.kinds("window_missed").count, 0)
    }
}
