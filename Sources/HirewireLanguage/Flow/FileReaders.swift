import Foundation

/// Reads template, source and flow-test files into their models.
struct FileReaders {
    let reader: NodeReader
    let file: String

    func template(_ root: Node, name: String) -> TemplateSpec {
        var spec = TemplateSpec(name: name, file: file)
        guard let m = reader.mapping(root, "a template", allowed: ["subject", "text", "html", "description"]) else { return spec }
        func text(_ key: String) -> TemplateText? {
            guard let node = m[key]?.value else { return nil }
            guard let source = node.scalar else {
                reader.error("\(key) must be text", at: node.location, code: "invalid-value")
                return nil
            }
            let quoted = node.style == .singleQuoted || node.style == .doubleQuoted
            let block = node.style == .literal || node.style == .folded
            return TemplateText(source: source, location: node.location.advanced(by: quoted ? 1 : 0), isBlock: block)
        }
        spec.subject = text("subject")
        spec.text = text("text")
        spec.html = text("html")
        if spec.text == nil && spec.html == nil {
            reader.error("a template needs text or html", at: root.location, code: "missing-key")
        }
        return spec
    }

    func source(_ root: Node) -> SourceSpec? {
        guard let m = reader.mapping(root, "a source", allowed: ["source", "signature", "event_id", "events", "description"]) else { return nil }
        guard let name = m["source"].flatMap({ reader.string($0.value, "source") }) else {
            if m["source"] == nil { reader.missing("source", in: "a source", at: root.location) }
            return nil
        }
        var rules: [SourceRule] = []
        if let events = m["events"] {
            for item in reader.listOrOne(events.value) {
                guard let r = reader.mapping(item, "a source rule", allowed: ["when", "type", "occurred_at", "data", "enrich"]) else { continue }
                guard let type = r["type"].flatMap({ reader.string($0.value, "type") }) else {
                    if r["type"] == nil { reader.missing("type", in: "a source rule", at: item.location) }
                    continue
                }
                var data: [(field: Located<String>, expression: ExpressionSource)] = []
                if let d = r["data"] {
                    for pair in d.value.pairs ?? [] {
                        if let e = reader.expression(pair.value, "data '\(pair.name)'") {
                            data.append((Located(pair.name, at: pair.key.location), e))
                        }
                    }
                    if d.value.pairs == nil { reader.error("data must map canonical fields to expressions", at: d.value.location, code: "invalid-value") }
                }
                let enrich = r["enrich"].flatMap { reader.string($0.value, "enrich") }
                if let enrich, enrich.value != "application" {
                    reader.error("enrich must be 'application' (fill what the payload lacks from earlier events of the same application)",
                                 at: enrich.location, code: "invalid-value")
                }
                rules.append(SourceRule(when: r["when"].flatMap { reader.expression($0.value, "when") }, type: type,
                                        occurredAt: r["occurred_at"].flatMap { reader.expression($0.value, "occurred_at") },
                                        data: data, enrichFromApplication: enrich?.value == "application", location: item.location))
            }
        } else {
            reader.missing("events", in: "a source", at: root.location)
        }
        return SourceSpec(name: name, file: file, signature: m["signature"]?.value,
                          eventId: m["event_id"].flatMap { reader.expression($0.value, "event_id") }, rules: rules)
    }

    /// Reads a flow test; `$ref` paths resolve relative to `directory`.
    func flowTest(_ root: Node, directory: String) -> FlowTestSpec? {
        guard let m = reader.mapping(root, "a flow test", allowed: ["test", "flow", "clock", "events", "expect", "description"]) else { return nil }
        for key in ["test", "flow", "clock"] where m[key] == nil { reader.missing(key, in: "a flow test", at: root.location) }
        guard let name = m["test"].flatMap({ reader.string($0.value, "test") }),
              let flow = m["flow"].flatMap({ reader.string($0.value, "flow") }),
              let clock = m["clock"].flatMap({ reader.string($0.value, "clock") })
        else { return nil }
        if Timestamp.parse(clock.value) == nil {
            reader.error("clock must be an RFC 3339 time such as 2026-03-02T09:00:00-05:00", at: clock.location, code: "invalid-value")
        }
        var events: [FlowTestEvent] = []
        for item in m["events"].map({ reader.listOrOne($0.value) }) ?? [] {
            guard let e = reader.mapping(item, "a test event", allowed: ["at", "type", "data"]) else { continue }
            guard let at = e["at"].flatMap({ reader.string($0.value, "at") }),
                  let type = e["type"].flatMap({ reader.string($0.value, "type") })
            else {
                for key in ["at", "type"] where e[key] == nil { reader.missing(key, in: "a test event", at: item.location) }
                continue
            }
            let data = e["data"].map { resolveRefs($0.value, directory: directory) } ?? .object([:])
            // (A null here is a $ref already reported, or a written null: nothing more to say.)
            if let given = e["data"], data.objectValue == nil, !data.isNull {
                reader.error("an event's data is an object of entities ({candidate: {…}, application: {…}}), not \(data.kindName)",
                             at: given.value.location, code: "invalid-value")
            }
            events.append(FlowTestEvent(at: at, type: type, data: data, location: item.location))
        }
        return FlowTestSpec(name: name, file: file, flow: flow, clock: clock, events: events,
                            expect: m["expect"].map { reader.listOrOne($0.value) } ?? [])
    }

    /// Replaces `{$ref: path}` by the referenced JSON (a canonical event stands for its data).
    /// Keys beside `$ref` are merged over what it references (a variant of a shared event:
    /// `{$ref: offer.json, offer: {tier: exec}}`); they used to replace it. The file is read as
    /// strict JSON, its mistakes reported at their line and column in it.
    func resolveRefs(_ node: Node, directory: String) -> Value {
        if let pairs = node.pairs, let ref = pairs.first(where: { $0.name == "$ref" }) {
            guard let path = reader.string(ref.value, "$ref") else { return .null }
            let full = path.value.hasPrefix("/") ? path.value : (directory as NSString).appendingPathComponent(path.value)
            let shown = path.value.hasPrefix("/") ? path.value : Self.joined((file as NSString).deletingLastPathComponent, path.value)
            let referenced: Value
            do {
                guard FileManager.default.fileExists(atPath: full) else {
                    reader.error("cannot read $ref '\(path.value)' (no file at \(shown))", at: path.location, code: "io-error")
                    return .null
                }
                referenced = EventData.unwrap(try YAMLLoader.loadFile(full, displayPath: shown).toValue())
            } catch {
                // Reported at the $ref, with the place in the referenced file: the mistake belongs
                // to the test (a server never reads this file).
                reader.error("$ref '\(path.value)' does not load: \(error.location): \(error.message)", at: path.location, code: "invalid-value")
                return .null
            }
            let others = pairs.filter { $0.name != "$ref" }
            guard !others.isEmpty else { return referenced }
            guard case .object = referenced else {
                reader.error("keys beside $ref merge into what it references, which must then be an object, not \(referenced.kindName)",
                             at: path.location, code: "invalid-value")
                return .null
            }
            let overlay = Value.object(Dictionary(others.map { ($0.name, resolveRefs($0.value, directory: directory)) }, uniquingKeysWith: { a, _ in a }))
            return referenced.merging(overlay)
        }
        switch node.kind {
        case .scalar: return node.toValue()
        case .sequence(let items): return .array(items.map { resolveRefs($0, directory: directory) })
        case .mapping(let pairs):
            return .object(Dictionary(pairs.map { ($0.name, resolveRefs($0.value, directory: directory)) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}

extension FileReaders {
    /// `directory/relative` with `.` and `..` resolved where they can be (for the paths
    /// diagnostics show: `examples/events/x.json`, not `flows/tests/../../examples/events/x.json`).
    static func joined(_ directory: String, _ relative: String) -> String {
        var parts: [Substring] = []
        for part in (directory.isEmpty ? relative : directory + "/" + relative).split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }
}

/// Helpers for data files that may hold a whole canonical event.
public enum EventData {
    /// A canonical event (an object with `type` and `data`) stands for its `data`; anything else
    /// is returned as it is.
    public static func unwrap(_ value: Value) -> Value {
        if case .object(let o) = value, o["type"]?.stringValue != nil, let data = o["data"], case .object = data {
            return data
        }
        return value
    }
}
