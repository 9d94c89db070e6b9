import Foundation
import HirewireEngine
import HirewireIntake
import HirewireLanguage
import HirewireStore

extension JourneyEngine {
    /// Maps stored deliveries to canonical events and puts them in the inbox: a matched rule
    /// gives an event (`accepted`), no rule gives `ignored`, a missing required field gives
    /// `review`. Each batch is written in one transaction (events, application profiles and the
    /// deliveries' outcomes together), so a crash repeats the whole batch or none of it.
    @discardableResult
    public func mapDeliveries(sources: [String: CompiledSource], now: Date, batchSize: Int = 500) throws(StoreError) -> Int {
        var total = 0
        while true {
            let pending = try store.pendingDeliveries(limit: batchSize)
            if pending.isEmpty { return total }
            let batch = MappingBatch(store: store)
            for delivery in pending { try map(delivery, sources: sources, into: batch) }
            let requeued = try store.commitMapping(batch.outcomes, at: now)
            try heal(batch.outcomes.news, requeued: requeued, now: now)
            total += pending.count
        }
    }

    /// Maps one delivery into `batch`.
    private func map(_ delivery: Delivery, sources: [String: CompiledSource], into batch: MappingBatch) throws(StoreError) {
        guard case .object(let body)? = try? Value.parseJSON(Data(delivery.body)) else {
            batch.mark(delivery, "review", "body is not a JSON object")
            return
        }
        if delivery.source == "events" {
            let given = CanonicalEvent(id: delivery.eventId, type: body["type"]?.stringValue ?? "",
                                       occurredAt: body["occurred_at"]?.asTimestamp ?? delivery.receivedAt,
                                       source: body["source"]?.stringValue ?? "events", data: body["data"] ?? .object([:]))
            // As for the vendors' hooks: what its application's earlier events said fills the
            // gaps, and a required field still missing sends it to review (until its application's
            // data arrives, or a person replays it), not on as an event no journey can key.
            let application = given.data["application"]["id"].stringValue
            var event = given
            let missing: [String]
            (event.data, missing) = try CompiledSource.completing(given.data, type: given.type) { () throws(StoreError) -> [String: Value]? in
                guard let application else { return nil }
                return try batch.profile(application)
            }
            if !missing.isEmpty {
                batch.mark(delivery, "review", CompiledSource.incompleteReason(type: event.type, missing: missing), application: application)
                return
            }
            try batch.accept(event, from: delivery)
            return
        }
        guard let source = sources[delivery.source] else {
            batch.mark(delivery, "review", "source \(delivery.source) is no longer configured")
            return
        }
        let known = { (application: String) -> Value? in (try? batch.profile(application)).flatMap { $0.map(Value.object) } }
        switch source.map(body: .object(body), headers: delivery.headers, sha256: Crypto.sha256Hex(delivery.body),
                          receivedAt: delivery.receivedAt, known: known) {
        case .mapped(let id, let type, let occurredAt, let data):
            if logDeliveries {
                JSONLog.write("info", "delivery mapped", ["source": .string(delivery.source), "event_id": .string(id), "type": .string(type),
                                                          "candidate": data["candidate"], "application": data["application"]["id"]])
            }
            try batch.accept(CanonicalEvent(id: "\(delivery.source):\(id)", type: type, occurredAt: occurredAt, source: delivery.source, data: data),
                             from: delivery)
        case .ignored(_, let reason):
            batch.mark(delivery, "ignored", reason)
        case .review(let id, let type, let missing, let application):
            JSONLog.write("warn", "delivery needs review", ["source": .string(delivery.source), "event_id": .string(id), "type": .string(type),
                                                            "missing": .array(missing.map(Value.string))])
            batch.mark(delivery, "review", CompiledSource.incompleteReason(type: type, missing: missing), application: application)
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

    /// Webhooks out of order heal themselves: what an application's newest event told may be
    /// what was missing from its deliveries in review (the store sent those back with the batch:
    /// this pass maps them next) and from the events a flow refused to start a journey for (each
    /// is routed again here to that flow, filled with what is known now, as `dead-letters
    /// replay` does). Only news does this, so an item that still lacks a field waits again, once,
    /// until the next news.
    func heal(_ news: [String], requeued: Int, now: Date) throws(StoreError) {
        var routed = 0
        for application in news {
            for item in try store.waitingReviews(application: application) {
                guard let flow = item.flow, let event = try store.inboxEvent(id: item.detail["event_id"].displayString) else { continue }
                do {
                    if try replay(try enriched(event), toFlow: flow, resolvingReview: item.number, now: now) { routed += 1 }
                } catch {
                    // The flow was removed or broke since: the item waits for a person, as it did.
                    JSONLog.write("warn", "review item not routed again", ["item": .string(item.id), "reason": .string(error.description)])
                }
            }
        }
        guard requeued + routed > 0 else { return }
        JSONLog.write("info", "waiting items sent back by their application's data",
                      ["applications": .array(news.prefix(20).map(Value.string)), "deliveries": .number(Double(requeued)),
                       "reviews": .number(Double(routed))])
    }
}

/// One batch of deliveries being mapped: its outcomes, and the application profiles as the
/// batch has changed them (a later delivery of the batch is filled from an earlier one's data,
/// as it would be had each been written on its own).
///
/// A class so that the source mapping's `known` closure can read it; one mapping pass owns it
/// on one thread, and it never outlives that pass.
private final class MappingBatch {
    let store: any JourneyStore
    var outcomes = DeliveryOutcomes()
    /// Profiles read or changed in this batch (nil: the store has none).
    private var profiles: [String: [String: Value]?] = [:]

    init(store: any JourneyStore) { self.store = store }

    /// What the application's events said so far, this batch's included.
    func profile(_ application: String) throws(StoreError) -> [String: Value]? {
        if let known = profiles[application] { return known }
        let stored = try store.applicationProfile(application)?.objectValue
        profiles[application] = .some(stored)
        return stored
    }

    func mark(_ delivery: Delivery, _ status: String, _ detail: String, application: String? = nil) {
        outcomes.marks.append(DeliveryMark(sequence: delivery.sequence, status: status, detail: detail, application: application))
    }

    /// An event for the inbox; what it says about its application is kept (news when it added
    /// to what was known).
    func accept(_ event: CanonicalEvent, from delivery: Delivery) throws(StoreError) {
        if let application = event.data["application"]["id"].stringValue,
           let changed = CompiledSource.remembering(event.data, into: try profile(application) ?? [:]) {
            profiles[application] = .some(changed)
            outcomes.profiles[application] = .object(changed)
            if !outcomes.news.contains(application) { outcomes.news.append(application) }
        }
        outcomes.events.append(event)
        mark(delivery, "accepted", event.type)
    }
}
