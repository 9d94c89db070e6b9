import Foundation
import XCTest
@testable import HirewireRuntime

/// Journey ids are ULIDs after `jrn_`: 10 characters of milliseconds, 16 of randomness, all
/// Crockford base32, so ids sort by the moment they were made.
final class JourneyIdTests: XCTestCase {
    static let crockford = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    func testFormatIsJrnAndTwentySixCrockfordCharacters() {
        let id = JourneyId.make()
        XCTAssertTrue(id.hasPrefix("jrn_"), id)
        XCTAssertEqual(id.count, 30, id)
        XCTAssertTrue(id.dropFirst(4).allSatisfy(Self.crockford.contains), id)
    }

    func testTimePartEncodesTheMillisecondsMostSignificantFirst() {
        // 1,700,000,000,000 ms = 0x18B_CFE5_6800; in base32: 0 1 H F 7 Y A T 0 0 (48 bits, 10 digits).
        let id = JourneyId.make(now: Date(timeIntervalSince1970: 1_700_000_000), random: (0, 0))
        XCTAssertEqual(id, "jrn_01HF7YAT00" + String(repeating: "0", count: 16))
        let later = JourneyId.make(now: Date(timeIntervalSince1970: 1_700_000_000.001), random: (0, 0))
        XCTAssertLessThan(id, later)
    }

    func testRandomPartUsesEightyBits() {
        let all = JourneyId.make(now: Date(timeIntervalSince1970: 0), random: (.max, .max))
        XCTAssertEqual(all, "jrn_0000000000" + String(repeating: "Z", count: 16))
        // Bits above the 80 used change nothing; the lowest bit of each word shows.
        let high = JourneyId.make(now: Date(timeIntervalSince1970: 0), random: (1 << 63, 1 << 63))
        XCTAssertEqual(high, "jrn_0000000000" + String(repeating: "0", count: 16))
        let low = JourneyId.make(now: Date(timeIntervalSince1970: 0), random: (1, 1))
        XCTAssertEqual(low, "jrn_0000000000" + "100000000000" + "1000")
    }

    func testIdsAreDistinct() {
        let ids = (0..<10_000).map { _ in JourneyId.make() }
        XCTAssertEqual(Set(ids).count, ids.count)
    }
}
