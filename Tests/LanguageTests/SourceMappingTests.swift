import Foundation
import XCTest
@testable import HirewireLanguage

/// Source files turn verified vendor payloads into canonical events.
final class SourceMappingTests: XCTestCase {
    static let source = """
        source: greenhouse
        signature: {scheme: greenhouse, secret: env.GREENHOUSE_SECRET}
        event_id: header("Greenhouse-Event-ID") ?? sha256(body)
        events:
          - when: body.action == "offer_created"
            type: offer.extended
            occurred_at: body.payload.offer.created_at
            data:
              candidate.id: string(body.payload.offer.candidate_id)
              application.id: string(body.payload.offer.application_id)
              offer.id: string(body.payload.offer.id)
              candidate.first_name: body.payload.candidate.first_name
          - when: body.action == "candidate_has_been_hired"
            type: candidate.hired
            data:
              application.id: string(body.payload.application.id)
        """

    func compiled() throws -> CompiledSource {
        let fixture = try ProjectFixture(files: ["sources/greenhouse.yaml": Self.source])
        defer { fixture.remove() }
        let project = fixture.compile()
        XCTAssertEqual(project.diagnostics.map(\.description), [])
        return try XCTUnwrap(project.sources["greenhouse"])
    }

    func testMapsAMatchingPayload() throws {
        let body: Value = ["action": "offer_created", "payload": ["offer": ["id": 91, "candidate_id": 12, "application_id": 34, "created_at": "2026-03-02T14:00:00Z"],
                                                                  "candidate": ["first_name": "Ada"]]]
        let outcome = try compiled().map(body: body, headers: ["greenhouse-event-id": "gh-1"], sha256: "ff", receivedAt: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(outcome, .mapped(id: "gh-1", type: "offer.extended", occurredAt: Timestamp.parse("2026-03-02T14:00:00Z") ?? Date(),
                                        data: ["candidate": ["id": "12", "first_name": "Ada"], "application": ["id": "34"], "offer": ["id": "91"]]))
    }

    func testEventIdFallsBackToTheBodyHash() throws {
        let body: Value = ["action": "candidate_has_been_hired", "payload": ["application": ["id": 7]]]
        let outcome = try compiled().map(body: body, headers: [:], sha256: "abc123", receivedAt: Date(timeIntervalSince1970: 100))
        XCTAssertEqual(outcome, .mapped(id: "abc123", type: "candidate.hired", occurredAt: Date(timeIntervalSince1970: 100), data: ["application": ["id": "7"]]))
    }

    func testUnmatchedIsIgnoredAndMissingRequiredIsReview() throws {
        let source = try compiled()
        XCTAssertEqual(source.map(body: ["action": "ping"], headers: [:], sha256: "h1", receivedAt: Date()),
                       .ignored(id: "h1", reason: "no rule of source greenhouse matches"))
        let missing: Value = ["action": "offer_created", "payload": ["offer": ["id": 1, "candidate_id": 2]]]
        XCTAssertEqual(source.map(body: missing, headers: [:], sha256: "h2", receivedAt: Date()),
                       .review(id: "h2", type: "offer.extended", missing: ["application.id"], application: nil))
    }
}
