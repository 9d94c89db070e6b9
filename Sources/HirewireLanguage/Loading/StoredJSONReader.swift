import CYaml

/// Reads JSON this program wrote into a store, straight from libyaml's events into values:
/// no node tree, no source positions, no strict-JSON diagnostics (the text is our own, written
/// by ``Value/jsonString(pretty:)``). A third the cost of the flow-file loader per journey row,
/// and journeys are read for every event of a running journey.
enum StoredJSONReader {
    /// Open containers, innermost last. Values are added in place (`objects[last][key] = v`):
    /// taking a container out of an enum to add to it would copy it on every member.
    private struct Open {
        var isObject: [Bool] = []
        var objects: [[String: Value]] = []
        var arrays: [[Value]] = []
        var keys: [String?] = []
    }

    static func read(_ text: String) -> Value? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var text = text
        return text.withUTF8 { buffer -> Value? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var open = Open()
            var root: Value?
            var event = yaml_event_t()
            func put(_ value: Value) -> Bool {
                guard let isObject = open.isObject.last else {
                    root = value
                    return true
                }
                if !isObject {
                    open.arrays[open.arrays.count - 1].append(value)
                } else if let key = open.keys[open.keys.count - 1] {
                    open.objects[open.objects.count - 1][key] = value
                    open.keys[open.keys.count - 1] = nil
                } else {
                    guard case .string(let name) = value else { return false }
                    open.keys[open.keys.count - 1] = name
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
                    open.isObject.append(false)
                    open.arrays.append([])
                case YAML_MAPPING_START_EVENT:
                    open.isObject.append(true)
                    open.objects.append([:])
                    open.keys.append(nil)
                case YAML_SEQUENCE_END_EVENT:
                    guard open.isObject.popLast() == false, let items = open.arrays.popLast(), put(.array(items)) else { return nil }
                case YAML_MAPPING_END_EVENT:
                    guard open.isObject.popLast() == true, let members = open.objects.popLast(), let key = open.keys.popLast(), key == nil,
                          put(.object(members)) else { return nil }
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                    let value: Value
                    if scalar.style == YAML_PLAIN_SCALAR_STYLE {
                        // As the flow-file loader reads it (a plain scalar that is no number stays text).
                        value = Node.coreScalar(text) ?? .string(text)
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
