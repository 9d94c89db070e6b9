import Foundation
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore

extension JourneyEngine {
    /// Maps stored deliveries to canonical events and puts them in the inbox: a matched rule
    /// gives an event (`accepted`), no rule gives `ignored`, a missing required field gives
    /// `review`. A crash between the inbox append and the mark repeats the append, which the
    /// inbox drops as a duplicate.
    @discardableResult
    public func mapDeliveries(sources: [String: CompiledSource], now: Date, batchSize: Int = 500) throws(StoreError) -> Int {
        var total = 0
        while true {
            let pending = try store.pendingDeliveries(limit: batchSize)
            if pending.isEmpty { return total }
            for delivery in pending {
                guard case .object(let body)? = try? Value.parseJSON(Data(delivery.body)) else {
                    try store.markDelivery(delivery.sequence, status: "review", detail: "body is not a JSON object")
                    continue
                }
                if delivery.source == "events" {
                    let given = CanonicalEvent(id: delivery.eventId, type: body["type"]?.stringValue ?? "",
                                               occurredAt: body["occurred_at"]?.asTimestamp ?? delivery.receivedAt,
                                               source: body["source"]?.stringValue ?? "events", data: body["data"] ?? .object([:]))
                    // As for the vendors' hooks: what its application's earlier events said fills
                    // the gaps, and a required field still missing sends it to review (replayable
                    // once the data is there), not on as an event no journey can key.
                    var event = given
                    let missing: [String]
                    (event.data, missing) = try CompiledSource.completing(given.data, type: given.type) { () throws(StoreError) -> [String: Value]? in
                        guard let application = given.data["application"]["id"].stringValue else { return nil }
                        return try store.applicationProfile(application)?.objectValue
                    }
                    if !missing.isEmpty {
                        try store.markDeliveryForReview(delivery.sequence, reason: CompiledSource.incompleteReason(type: event.type, missing: missing),
                                                        application: given.data["application"]["id"].stringValue)
                        continue
                    }
                    let learned = try remember(event.data, now: now)
                    _ = try submit([event], now: now)
                    try store.markDelivery(delivery.sequence, status: "accepted", detail: event.type)
                    try heal(learned, after: delivery, now: now)
                    continue
                }
                guard let source = sources[delivery.source] else {
                    try store.markDelivery(delivery.sequence, status: "review", detail: "source \(delivery.source) is no longer configured")
                    continue
                }
                let known = { (application: String) -> Value? in try? self.store.applicationProfile(application) }
                switch source.map(body: .object(body), headers: delivery.headers, sha256: Crypto.sha256Hex(delivery.body),
                                  receivedAt: delivery.receivedAt, known: known) {
                case .mapped(let id, let type, let occurredAt, let data):
                    if logDeliveries {
                        JSONLog.write("info", "delivery mapped", ["source": .string(delivery.source), "event_id": .string(id), "type": .string(type),
                                                                  "candidate": data["candidate"], "application": data["application"]["id"]])
                    }
                    let learned = try remember(data, now: now)
                    _ = try submit([CanonicalEvent(id: "\(delivery.source):\(id)", type: type, occurredAt: occurredAt, source: delivery.source, data: data)], now: now)
                    try store.markDelivery(delivery.sequence, status: "accepted", detail: type)
                    try heal(learned, after: delivery, now: now)
                case .ignored(_, let reason):
                    try store.markDelivery(delivery.sequence, status: "ignored", detail: reason)
                case .review(let id, let type, let missing, let application):
                    JSONLog.write("warn", "delivery needs review", ["source": .string(delivery.source), "event_id": .string(id), "type": .string(type),
                                                                    "missing": .array(missing.map(Value.string))])
                    try store.markDeliveryForReview(delivery.sequence, reason: CompiledSource.incompleteReason(type: type, missing: missing),
                                                    application: application)
                }
            }
            total += pending.count
        }
    }

    /// `event` with the fields it lacks filled from what its application's events said since.
    public func enriched(_ event: CanonicalEvent) throws(StoreError) -> CanonicalEvent {
        guard let application = event.data["application"]["id"].stringValue,
              case .object(let known)? = try store.applicationProfile(application), case .object(let data) = event.data else { return event }
        var out = event
        out.data = .object(CompiledSource.fill(data, from: known))
        return out
    }

    /// Merges what an event says about its application into the remembered profile (non-null
    /// values replace older ones), so later id-only payloads can be enriched.
    /// Keeps what `data` says about its application; returns the application when that added
    /// to what was known (nil when it named none or said nothing new).
    func remember(_ data: Value, now: Date) throws(StoreError) -> String? {
        guard let application = data["application"]["id"].stringValue else { return nil }
        let profile = (try store.applicationProfile(application))?.objectValue ?? [:]
        guard let changed = CompiledSource.remembering(data, into: profile) else { return nil }
        try store.saveApplicationProfile(application, .object(changed), at: now)
        return application
    }

    /// Webhooks out of order heal themselves: what an application's newest event told may be
    /// what was missing from its deliveries in review (they go back to be mapped again: this
    /// pass picks them up next) and from the events a flow refused to start a journey for (each
    /// is routed again to that flow, filled with what is known now, as `dead-letters replay`
    /// does). Only new knowledge does this, so an item that still lacks a field waits again
    /// once, until the next news.
    func heal(_ application: String?, after delivery: Delivery, now: Date) throws(StoreError) {
        guard let application else { return }
        let requeued = try store.requeueReviewedDeliveries(application: application)
        var routed = 0
        for item in try store.waitingReviews(application: application) {
            guard let flow = item.flow, let event = try store.inboxEvent(id: item.detail["event_id"].displayString) else { continue }
            do {
                if try replay(try enriched(event), toFlow: flow, resolvingReview: item.number, now: now) { routed += 1 }
            } catch {
                // The flow was removed or broke since: the item waits for a person, as it did.
                JSONLog.write("warn", "review item not routed again", ["item": .string(item.id), "reason": .string(error.description)])
            }
        }
        guard requeued + routed > 0 else { return }
        JSONLog.write("info", "waiting items sent back by their application's data",
                      ["application": .string(application), "deliveries": .number(Double(requeued)), "reviews": .number(Double(routed)),
                       "after": .string("\(delivery.source):\(delivery.eventId)")])
    }
}
