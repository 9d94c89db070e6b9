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
        try mapDeliveriesTellingNews(sources: sources, now: now, batchSize: batchSize).mapped
    }

    /// ``mapDeliveries(sources:now:batchSize:)``, also returning the applications its deliveries
    /// told something new (the engine loop heals again for them once their events are processed).
    func mapDeliveriesTellingNews(sources: [String: CompiledSource], now: Date, batchSize: Int = 500) throws(StoreError) -> (mapped: Int, news: [String]) {
        var total = 0
        var news: [String] = []
        while true {
            let pending = try store.pendingDeliveries(limit: batchSize)
            if pending.isEmpty { return (total, news) }
            let batch = MappingBatch(store: store)
            for delivery in pending where !batch.mapped.contains(delivery.sequence) { try map(delivery, sources: sources, into: batch) }
            try store.commitMapping(batch.outcomes, at: now)
            let routed = try healRefusedStarts(of: batch.news, now: now)
            if batch.healed + routed > 0 {
                JSONLog.write("info", "waiting items sent back by their application's data",
                              ["applications": .array(batch.news.prefix(20).map(Value.string)), "deliveries": .number(Double(batch.healed)),
                               "reviews": .number(Double(routed))])
            }
            news += batch.news
            total += pending.count
        }
    }

    /// Maps one delivery into `batch`.
    private func map(_ delivery: Delivery, sources: [String: CompiledSource], into batch: MappingBatch) throws(StoreError) {
        batch.mapped.insert(delivery.sequence)
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
            let application = given.data["application"]["id"].idText
            var event = given
            let missing: [String]
            (event.data, missing) = try CompiledSource.completing(given.data, type: given.type) { () throws(StoreError) -> [String: Value]? in
                guard let application else { return nil }
                return try batch.profile(application)
            }
            if !missing.isEmpty {
                JSONLog.write("warn", "delivery needs review", ["source": .string(delivery.source), "event_id": .string(delivery.eventId),
                                                                "type": .string(event.type), "missing": .array(missing.map(Value.string))])
                batch.mark(delivery, "review", CompiledSource.incompleteReason(type: event.type, missing: missing), application: application)
                return
            }
            try accept(event, from: delivery, sources: sources, into: batch)
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
            try accept(CanonicalEvent(id: "\(delivery.source):\(id)", type: type, occurredAt: occurredAt, source: delivery.source, data: data),
                       from: delivery, sources: sources, into: batch)
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

    /// An event for the inbox. When what it says about its application is news, the
    /// deliveries waiting in review for that application are mapped again first, filled with it:
    /// webhooks out of order heal themselves, and their events reach the journeys in the order
    /// the deliveries came in. One that still lacks a field goes back to review, until the next news.
    private func accept(_ event: CanonicalEvent, from delivery: Delivery, sources: [String: CompiledSource], into batch: MappingBatch) throws(StoreError) {
        if let application = try batch.learn(event) {
            // Those of earlier batches (stored), then those of this one, oldest first each.
            var held = try store.reviewedDeliveries(application: application).filter { !batch.mapped.contains($0.sequence) }
            held += batch.waiting.removeValue(forKey: application) ?? []
            // All of them claimed first: mapping one may be news again, and the nested pass must
            // neither take the others out of their order nor map them a second time.
            for delivery in held { batch.mapped.insert(delivery.sequence) }
            for delivery in held {
                batch.healed += 1
                try map(delivery, sources: sources, into: batch)
            }
        }
        batch.outcomes.events.append((delivery.sequence, event))
        // The application it was about: erasing the candidate finds the raw request by it.
        batch.mark(delivery, "accepted", event.type, application: event.data["application"]["id"].idText)
    }

    /// The events a flow refused to start a journey for (its `require` unmet) about these
    /// applications, routed again to that flow, filled with what is known now, as `dead-letters
    /// replay` does — those that now have what the flow requires; the others keep waiting as they
    /// are (routed again they would only be refused again, under a new id, their `on_invalid`
    /// actions repeated). Returns how many were routed.
    ///
    /// Run after a mapping batch (before its events are processed: they came before the news),
    /// again after the engine processed them (a start refused in that very pass), and over every
    /// waiting item when `serve` starts (a crash between a batch and its healing loses nothing).
    @discardableResult
    public func healRefusedStarts(of applications: [String]? = nil, now: Date) throws(StoreError) -> Int {
        let items: [DeadLetter]
        if let applications {
            var found: [DeadLetter] = []
            for application in applications { found += try store.waitingReviews(application: application) }
            items = found
        } else {
            items = try store.deadLetters(DeadLetterQuery(kinds: [.review], limit: 10_000)).filter { $0.detail["application"].stringValue != nil }.reversed()
        }
        var routed = 0
        for item in items {
            do {
                guard let flow = item.flow, let stored = try store.inboxEvent(id: item.detail["event_id"].displayString) else { continue }
                let event = try enriched(stored)
                guard meetsRequirements(event, flow: flow) else { continue }
                if try replay(event, toFlow: flow, resolvingReview: item.number, now: now) { routed += 1 }
            } catch {
                // The flow was removed or broke since, or the store refused: it waits, as it did.
                JSONLog.write("warn", "review item not routed again", ["item": .string(item.id), "reason": .string(error.description)])
            }
        }
        return routed
    }
}

/// One batch of deliveries being mapped: its outcomes, and the application profiles as the
/// batch has changed them (a later delivery of the batch is filled from an earlier one's data,
/// as it would be had each been written on its own).
///
/// A class so that the source mapping's `known` closure can read it; one mapping pass owns it
/// on one thread, and it never outlives that pass.
final class MappingBatch {
    let store: any JourneyStore
    var outcomes = DeliveryOutcomes()
    /// Deliveries mapped in this batch (one sent back by news is not mapped twice).
    var mapped: Set<Int64> = []
    /// Applications the batch told something new, in the order it did.
    private(set) var news: [String] = []
    /// Deliveries in review that news sent back through the mapping.
    var healed = 0
    /// Profiles read or changed in this batch (nil: the store has none).
    private var profiles: [String: [String: Value]?] = [:]

    init(store: any JourneyStore) { self.store = store }

    /// What the application's events said so far, this batch's included.
    func profile(_ application: String) throws(StoreError) -> [String: Value]? {
        if let known = profiles[application] { return known }
        let stored = try store.applicationProfile(application)?.objectValue
        profiles[application] = .some(stored)
        if stored != nil { outcomes.readProfiles.insert(application) }
        return stored
    }

    /// Deliveries this batch sent to review, by the application they are about (not yet stored
    /// as such: news later in the batch maps them again).
    var waiting: [String: [Delivery]] = [:]

    /// A delivery's outcome; marked again later in the batch, the last mark stands.
    func mark(_ delivery: Delivery, _ status: String, _ detail: String, application: String? = nil) {
        outcomes.marks.append(DeliveryMark(sequence: delivery.sequence, status: status, detail: detail, application: application))
        if status == "review", let application { waiting[application, default: []].append(delivery) }
    }

    /// Keeps what `event` says about its application; returns the application when that added
    /// to what was known.
    func learn(_ event: CanonicalEvent) throws(StoreError) -> String? {
        guard let application = event.data["application"]["id"].stringValue,
              let changed = CompiledSource.remembering(event.data, into: try profile(application) ?? [:]) else { return nil }
        profiles[application] = .some(changed)
        outcomes.profiles[application] = .object(changed)
        if !news.contains(application) { news.append(application) }
        return application
    }
}
