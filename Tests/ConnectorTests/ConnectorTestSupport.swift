import Foundation
import XCTest
import HirewireConnectors
import HirewireTestSupport
import HirewireEngine
import HirewireLanguage
import HirewireStore

/// An outbox item for `connector` with rendered `arguments`.
func item(_ connector: String, _ arguments: Value, key: String = "jrn_1:3:states.extended.do[0]", attempts: Int = 0,
          retryAttempts: Int? = nil) -> OutboxItem {
    OutboxItem(sequence: 1, journey: "jrn_1",
               action: PlannedAction(connector: connector, arguments: arguments, idempotencyKey: key, path: "states.extended.do[0]",
                                     audience: .candidate, template: nil, retryAttempts: retryAttempts, retryBackoff: nil, entry: 1, order: 0,
                                     candidate: "c1"),
               attempts: attempts)
}

