import CYaml

/// Reads JSON this program wrote into a store, straight from libyaml's events into values:
/// no node tree, no source positions, no strict-JSON diagnostics (the text is our own, written
/// by ``Value/jsonString(pretty:)``). A third the cost of the flow-file loader per journey row,
/// and journeys are read for every event of a running journey.
enum StoredJSONReader {
    private enum Frame {
        case array([Value])
        case object([String: Value], key: String?)
    }

    static func read(_ text: String) -> Value? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var text = text
        return text.withUTF8 { buffer -> Value? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var stack: [Frame] = []
            var root: Value?
            var event = yaml_event_t()
            func put(_ value: Value) -> Bool {
                guard let top = stack.popLast() else {
                    root = value
                    return true
                }
                switch top {
                case .array(var items):
                    items.append(value)
                    stack.append(.array(items))
                case .object(var members, let key):
                    if let key {
                        members[key] = value
                        stack.append(.object(members, key: nil))
                    } else {
                        guard case .string(let name) = value else { return false }
                        stack.append(.object(members, key: name))
                    }
                }
                return true
            }
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return root
                case YAML_SEQUENCE_START_EVENT:
                    stack.append(.array([]))
                case YAML_MAPPING_START_EVENT:
                    stack.append(.object([:], key: nil))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let done = stack.popLast() else { return nil }
                    let value: Value
                    switch done {
                    case .array(let items): value = .array(items)
                    case .object(let members, let key):
                        guard key == nil else { return nil }
                        value = .object(members)
                    }
                    guard put(value) else { return nil }
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                    let value: Value
                    if scalar.style == YAML_PLAIN_SCALAR_STYLE {
                        guard let core = Node.coreScalar(text) else { return nil }
                        value = core
                    } else {
                        value = .string(text)
                    }
                    guard put(value) else { return nil }
                case YAML_ALIAS_EVENT:
                    return nil  // never in JSON
                default:
                    continue
                }
            }
        }
    }
}
