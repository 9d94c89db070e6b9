import Foundation
import HirewireLanguage

extension SQLiteStore: ReportReads {
    public func offerEvents() throws(StoreError) -> [OfferEvent] {
        try locked { () throws(StoreError) -> [OfferEvent] in
            var out: [OfferEvent] = []
            try db.query("""
                SELECT type, json_extract(data, '$.occurred_at'),
                       COALESCE(json_extract(data, '$.data.offer.id'), json_extract(data, '$.data.application.id')),
                       COALESCE(json_extract(data, '$.data.recruiter.email'), json_extract(data, '$.data.recruiter.name'))
                FROM inbox WHERE type IN ('offer.extended', 'offer.accepted', 'offer.declined') AND status = 'processed' ORDER BY seq
                """) { row in
                guard let type = row.text(0), let kind = OfferEvent.Kind(rawValue: String(type.dropFirst("offer.".count))),
                      let at = row.text(1).flatMap(Timestamp.parse), let offer = row.text(2) else { return }
                out.append(OfferEvent(kind: kind, offer: offer, at: at, recruiter: row.text(3)))
            }
            return out
        }
    }

    public func stageMoves(startedSince since: Date) throws(StoreError) -> (entered: [StageCount], advanced: [StageCount]) {
        try locked { () throws(StoreError) -> (entered: [StageCount], advanced: [StageCount]) in
            var entered: [StageCount] = []
            var advanced: [StageCount] = []
            // Each transition of the cohort's journeys, from packed audit rows (`entries`, an array
            // of `{at, fields, kind}`) and rows of one entry (`transition`, its fields) alike; read
            // once (materialized) for both counts.
            try db.query("""
                WITH cohort AS (SELECT id, flow FROM journeys WHERE started_at >= ?),
                moves AS MATERIALIZED (
                    SELECT c.flow AS flow, a.journey AS journey, json_extract(e.value, '$.fields.from') AS f, json_extract(e.value, '$.fields.to') AS t
                    FROM cohort c JOIN audit a ON a.journey = c.id, json_each(a.data) e
                    WHERE a.kind = 'entries' AND json_extract(e.value, '$.kind') = 'transition'
                    UNION ALL
                    SELECT c.flow, a.journey, json_extract(a.data, '$.from'), json_extract(a.data, '$.to')
                    FROM cohort c JOIN audit a ON a.journey = c.id WHERE a.kind = 'transition')
                SELECT 'entered', flow, t, COUNT(DISTINCT journey) FROM moves WHERE t IS NOT NULL AND (f IS NULL OR f != t) GROUP BY flow, t
                UNION ALL
                SELECT 'advanced', flow, f, COUNT(DISTINCT journey) FROM moves WHERE f IS NOT NULL AND t IS NOT NULL AND f != t GROUP BY flow, f
                """, [Self.time(since)]) { row in
                let count = StageCount(flow: row.text(1) ?? "", state: row.text(2) ?? "", count: Int(row.integer(3)))
                if row.text(0) == "entered" { entered.append(count) } else { advanced.append(count) }
            }
            return (entered, advanced)
        }
    }

    public func journeyPlaces(startedSince since: Date) throws(StoreError) -> [(flow: String, state: String, outcome: String?, count: Int)] {
        try locked { () throws(StoreError) -> [(flow: String, state: String, outcome: String?, count: Int)] in
            var out: [(flow: String, state: String, outcome: String?, count: Int)] = []
            try db.query("""
                SELECT flow, state, CASE WHEN active = 1 THEN NULL ELSE COALESCE(outcome, 'ended') END AS o, COUNT(*)
                FROM journeys WHERE started_at >= ? GROUP BY flow, state, o ORDER BY flow, state, o
                """, [Self.time(since)]) { row in
                out.append((row.text(0) ?? "", row.text(1) ?? "", row.text(2), Int(row.integer(3))))
            }
            return out
        }
    }
}
