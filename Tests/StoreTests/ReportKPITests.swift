import Foundation
import XCTest
import HirewireStore

/// The report's KPI arithmetic on hand-made records (the store's reads are tested through
/// `hirewire report` on a real store).
final class ReportKPITests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_900_000_000)

    func at(_ hours: Double) -> Date { t0.addingTimeInterval(hours * 3600) }

    func testAnOfferIsDecidedByItsFirstAnswerAfterItsFirstExtensionInThePeriod() {
        let events = [
            OfferEvent(kind: .accepted, offer: "o0", at: at(-5), recruiter: nil),   // before the period, and before any extension
            OfferEvent(kind: .extended, offer: "o0", at: at(-4), recruiter: "sam"),  // extended before the period: not in the cohort
            OfferEvent(kind: .extended, offer: "o1", at: at(1), recruiter: "sam"),
            OfferEvent(kind: .extended, offer: "o1", at: at(3), recruiter: "lee"),   // extended again: still counted from the first
            OfferEvent(kind: .declined, offer: "o1", at: at(5), recruiter: nil),
            OfferEvent(kind: .accepted, offer: "o1", at: at(9), recruiter: nil),     // after its decline: changes nothing
            OfferEvent(kind: .extended, offer: "o2", at: at(2), recruiter: nil),
            OfferEvent(kind: .accepted, offer: "o2", at: at(26), recruiter: nil),
        ]
        let kpis = OfferKPIs(events.shuffled(), since: t0)
        XCTAssertEqual(kpis.recruiters.map(\.recruiter), ["(no recruiter)", "sam"])
        XCTAssertEqual(kpis.recruiters.map(\.declined), [0, 1])
        XCTAssertEqual(kpis.recruiters.map(\.accepted), [1, 0])
        XCTAssertEqual(kpis.recruiters.map(\.acceptanceRate), [1, 0])
        XCTAssertEqual(kpis.cycleTimes, [24 * 3600])
        XCTAssertEqual(kpis.cycleTime(quantile: 0.5), 24 * 3600)
    }

    func testQuantilesAreNearestRank() {
        let events = (1...10).flatMap { i in
            [OfferEvent(kind: .extended, offer: "o\(i)", at: at(0), recruiter: nil), OfferEvent(kind: .accepted, offer: "o\(i)", at: at(Double(i)), recruiter: nil)]
        }
        let kpis = OfferKPIs(events, since: t0)
        XCTAssertEqual(kpis.cycleTime(quantile: 0.5), 5 * 3600)
        XCTAssertEqual(kpis.cycleTime(quantile: 0.9), 9 * 3600)
        XCTAssertEqual(kpis.cycleTime(quantile: 1), 10 * 3600)
        XCTAssertNil(OfferKPIs([], since: t0).cycleTime(quantile: 0.5))
    }

    func testAFinalStateIsNoDropOffAndAStateWithoutEntriesHasNoRates() {
        let funnel = StageFunnel(entered: [StageCount(flow: "f", state: "a", count: 4), StageCount(flow: "f", state: "done", count: 3)],
                                 advanced: [StageCount(flow: "f", state: "a", count: 3)],
                                 places: [("f", "a", "withdrawn", 1), ("f", "done", "hired", 3), ("f", "stale", nil, 2)],
                                 finalStates: ["f": ["done"]])
        XCTAssertEqual(funnel.rows.map(\.state), ["a", "stale", "done"])
        XCTAssertEqual(funnel.rows[0].advanceRate, 0.75)
        XCTAssertEqual(funnel.rows[0].dropOffRate, 0.25)
        XCTAssertNil(funnel.rows[1].advanceRate, "entered before the period: nothing to divide by")
        XCTAssertEqual(funnel.rows[1].waiting, 2)
        XCTAssertNil(funnel.rows[2].dropOffRate)
        XCTAssertEqual(funnel.rows[2].ended, ["hired": 3])
    }
}
