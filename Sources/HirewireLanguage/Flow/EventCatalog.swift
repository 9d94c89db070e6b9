/// The canonical event catalog (v1): event types, the entities their data carries, each
/// field's type, and which fields each type requires. Compensation figures are never part of
/// canonical data; offers carry a tier only.
public struct EventCatalog: Sendable {
    /// Fields of each entity and their kinds.
    public let entities: [String: [String: ExprType.Kind]]
    /// Event types and their required dotted fields.
    public let types: [String: Set<String>]

    /// The v1 catalog.
    public static let v1: EventCatalog = {
        let entities: [String: [String: ExprType.Kind]] = [
            "candidate": ["id": .string, "first_name": .string, "last_name": .string, "preferred_name": .string,
                          "email": .string, "phone": .string, "timezone": .string, "locale": .string],
            "application": ["id": .string, "stage": .string, "previous_stage": .string, "source": .string,
                            "applied_at": .timestamp, "rejection_reason": .string],
            "job": ["id": .string, "title": .string, "department": .string, "location": .string, "careers_url": .string],
            "recruiter": ["id": .string, "name": .string, "email": .string, "slack": .string],
            "hiring_manager": ["id": .string, "name": .string, "email": .string],
            "offer": ["id": .string, "expires_at": .timestamp, "tier": .string, "start_date": .string],
            "assessment": ["id": .string, "name": .string, "score": .number, "max_score": .number, "completed_at": .timestamp],
            "interview": ["id": .string, "starts_at": .timestamp, "ends_at": .timestamp, "location": .string,
                          "link": .string, "kind": .string, "rebook_url": .string],
        ]
        let base: Set<String> = ["application.id"]
        let types: [String: Set<String>] = [
            "candidate.applied": base.union(["candidate.id"]),
            "candidate.stage_changed": base,
            "candidate.replied": base,
            "candidate.rejected": base,
            "candidate.withdrawn": base,
            "candidate.hired": base,
            "assessment.completed": base.union(["candidate.id"]),
            "interview.scheduled": base,
            "interview.rescheduled": base,
            "interview.cancelled": base,
            "offer.extended": base.union(["offer.id", "candidate.id"]),
            "offer.viewed": base.union(["offer.id"]),
            "offer.accepted": base.union(["offer.id"]),
            "offer.declined": base.union(["offer.id"]),
        ]
        return EventCatalog(entities: entities, types: types)
    }()

    /// Whether `type` is a catalog type (custom `x.` types are not).
    public func isKnown(_ type: String) -> Bool { types[type] != nil }

    /// All catalog type names, sorted.
    public var typeNames: [String] { types.keys.sorted() }

    /// Dotted fields `type` requires; custom and unknown types require none.
    public func requiredFields(for type: String) -> Set<String> { types[type] ?? [] }

    /// Entity names, sorted.
    public var entityNames: [String] { entities.keys.sorted() }

    /// The kind of `entity.field`, or nil when the catalog has no such field.
    public func fieldType(entity: String, field: String) -> ExprType.Kind? { entities[entity]?[field] }

    /// The fields of `entity`, sorted.
    public func fieldNames(entity: String) -> [String] { entities[entity]?.keys.sorted() ?? [] }
}
