import Foundation
import XCTest
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireRuntime
import HirewireStore

/// What `/metrics` shows of the engine and the parts beside it, in Prometheus' text format.
final class EngineMetricsTests: XCTestCase {
    let at = Timestamp.parse("2026-03-06T12:00:00Z") ?? .distantPast

    /// The onboarding POST cannot render without `env.ONBOARDING_URL`: it is dead-lettered in the
    /// step, never reaches the dispatcher, and is still counted as a dead action of `http`.
    func testAnActionThatCannotRenderCountsAsADeadLetter() throws {
        let dir = NSTemporaryDirectory() + "hirewire-metrics-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/hirewire.db")
        let engine = try JourneyEngine(project: JourneyEngineTests.project, store: store, now: at)
        let data: Value = [
            "candidate": ["id": "c1", "first_name": "Ada", "email": "ada@example.com", "timezone": "Europe/London"],
            "application": ["id": "a1"], "job": ["title": "SRE"], "recruiter": ["email": "sam@acme.test"],
            "offer": ["id": "o1", "tier": "B", "expires_at": "2026-03-20T17:00:00Z"],
        ]
        let before = engine.metrics.render()
        XCTAssertTrue(before.contains("# TYPE hirewire_timer_fire_lag_seconds histogram\n"), before)
        XCTAssertTrue(before.contains("hirewire_timer_fire_lag_seconds_bucket{le=\"1\"} 0\n"), "declared before any timer fired: \(before)")
        _ = try engine.submit([CanonicalEvent(id: "e1", type: "offer.extended", occurredAt: at, source: "test", data: data),
                               CanonicalEvent(id: "e2", type: "offer.accepted", occurredAt: at.addingTimeInterval(60), source: "test", data: data)], now: at)
        XCTAssertEqual(try engine.processInbox(now: at.addingTimeInterval(120)), 2)
        let text = engine.metrics.render()
        XCTAssertTrue(text.contains("hirewire_dead_letters_total{connector=\"http\"} 1\n"), text)
        XCTAssertTrue(text.contains("hirewire_actions_total{connector=\"http\",outcome=\"dead\"} 1\n"), text)
        XCTAssertFalse(text.contains("connector=\"slack\",outcome=\"dead\""), "the Slack message rendered: \(text)")
        // `hirewire report` reads the store: the same action is a dead one of `http` there.
        let http = try XCTUnwrap(try store.connectorStats(since: at.addingTimeInterval(-1)).first { $0.connector == "http" })
        XCTAssertEqual(http.dead, 1)
        XCTAssertEqual(http.sent, 0)
        XCTAssertEqual(http.deliveryRate, 0)
    }

    /// A label value is written escaped (an event type comes from whoever holds the token).
    func testLabelValuesAreEscaped() {
        let metrics = IntakeMetrics()
        metrics.add("events_total", ["type": "a\"b\\c\nd"])
        metrics.add("events_total", ["type": "x", "source": "q\""])
        XCTAssertEqual(metrics.render(), #"""
            # TYPE events_total counter
            events_total{source="q\"",type="x"} 1
            events_total{type="a\"b\\c\nd"} 1

            """#)
    }

    func testAHistogramIsCumulativeWithSumAndCount() {
        let metrics = IntakeMetrics()
        for lag in [0.2, 0.9, 3, 30, 7200] { metrics.observe("lag_seconds", value: lag, buckets: [1, 5, 60]) }
        XCTAssertEqual(metrics.render(), """
            # TYPE lag_seconds histogram
            lag_seconds_bucket{le="1"} 2
            lag_seconds_bucket{le="5"} 3
            lag_seconds_bucket{le="60"} 4
            lag_seconds_bucket{le="+Inf"} 5
            lag_seconds_sum 7234.1
            lag_seconds_count 5

            """)
    }

    /// Two parts counting the same series (dead letters at render time and at delivery) give one
    /// sample with their sum and one `# TYPE` line.
    func testPartsThatCountTheSameSeriesAreSummed() {
        let engine = IntakeMetrics(), dispatcher = IntakeMetrics()
        dispatcher.declare("dead_total", ["connector": "http"])
        dispatcher.declare("dead_total", ["connector": "email"])
        engine.add("dead_total", ["connector": "http"])
        dispatcher.add("dead_total", ["connector": "http"], by: 2)
        engine.observe("latency_seconds", value: 0.5, buckets: [1])
        dispatcher.observe("latency_seconds", value: 2, buckets: [1])
        XCTAssertEqual(IntakeMetrics.render([engine, dispatcher], gauges: ["depth": 4]), """
            # TYPE dead_total counter
            dead_total{connector="email"} 0
            dead_total{connector="http"} 3
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="1"} 1
            latency_seconds_bucket{le="+Inf"} 2
            latency_seconds_sum 2.5
            latency_seconds_count 2
            # TYPE depth gauge
            depth 4

            """)
    }
}
