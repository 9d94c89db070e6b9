/// How an argument of a built-in connector is read.
public enum ArgumentKind: Sendable, Hashable {
    /// A Mustache template rendered at the action's place (most string arguments).
    case template
    /// A duration such as `4h`.
    case duration
    /// A mapping whose values are expressions (`set.vars`, `emit.data`).
    case expressions
    /// Any JSON-like value whose strings are templates (`http.body`, `http.headers`, `crm.fields`).
    case templatedValue
    /// The name of a file in templates/.
    case templateName
    /// A canonical event type (`emit.type`).
    case eventType
    /// Outbound signing settings for `http`.
    case signing
}

/// The argument contract of a built-in connector (flow language section 5).
public struct ConnectorContract: Sendable, Hashable {
    public var name: String
    public var arguments: [String: ArgumentKind]
    /// Each inner list is one alternative set of required arguments (any one must be present).
    public var required: [[String]]
    public var defaultAudience: Audience
    /// Whether the action is dispatched through the outbox (false for set, emit, log, which act in the step).
    public var dispatched: Bool
}

/// The built-in connectors and their arguments.
public enum ConnectorCatalog {
    public static let builtIns: [String: ConnectorContract] = {
        let list = [
            ConnectorContract(name: "email",
                              arguments: ["to": .template, "template": .templateName, "subject": .template, "text": .template,
                                          "html": .template, "reply_to": .template, "cc": .template],
                              required: [["to", "template"], ["to", "subject", "text"]], defaultAudience: .candidate, dispatched: true),
            ConnectorContract(name: "sms", arguments: ["to": .template, "text": .template],
                              required: [["to", "text"]], defaultAudience: .candidate, dispatched: true),
            ConnectorContract(name: "slack", arguments: ["channel": .template, "text": .template],
                              required: [["text"]], defaultAudience: .team, dispatched: true),
            ConnectorContract(name: "teams", arguments: ["text": .template, "title": .template],
                              required: [["text"]], defaultAudience: .team, dispatched: true),
            ConnectorContract(name: "http",
                              arguments: ["method": .template, "url": .template, "headers": .templatedValue,
                                          "body": .templatedValue, "sign": .signing],
                              required: [["method", "url"]], defaultAudience: .team, dispatched: true),
            ConnectorContract(name: "task",
                              arguments: ["title": .template, "assignee": .template, "due": .duration, "notes": .template],
                              required: [["title"]], defaultAudience: .team, dispatched: true),
            ConnectorContract(name: "crm", arguments: ["candidate": .template, "fields": .templatedValue],
                              required: [["candidate"]], defaultAudience: .team, dispatched: true),
            ConnectorContract(name: "log", arguments: ["message": .template], required: [["message"]], defaultAudience: .team, dispatched: false),
            ConnectorContract(name: "emit", arguments: ["type": .eventType, "data": .expressions], required: [["type"]], defaultAudience: .team, dispatched: false),
            ConnectorContract(name: "set", arguments: ["vars": .expressions], required: [["vars"]], defaultAudience: .team, dispatched: false),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// Built-in names in a stable order (for suggestions and docs).
    public static var names: [String] { builtIns.keys.sorted() }
}
