/// `hirewire.yaml`: the project configuration. Every key is optional.
public struct ProjectConfig: Sendable, Hashable {
    public var file: String?
    /// `store: {sqlite: PATH}` or `{postgres: env.NAME}`; nil means the default SQLite file.
    public var store: StoreSetting?
    public var server: ServerSetting
    /// Environment variables flows may read as `env.NAME`.
    public var env: [Located<String>]
    public var defaultTimezone: Located<String>?
    /// Connector settings by name; plugin connectors have `plugin: PATH`.
    public var connectors: [ConnectorSetting]
    public var calendars: [CalendarSpec]
    public var allowPrivateNetworks: Bool
    public var retentionEvents: Double
    public var retentionPersonalData: Double

    /// The configuration used when a project has no hirewire.yaml.
    public static let defaults = ProjectConfig(
        file: nil, store: nil, server: ServerSetting(), env: [], defaultTimezone: nil, connectors: [],
        calendars: [], allowPrivateNetworks: false, retentionEvents: 90 * 86400, retentionPersonalData: 365 * 86400)

    /// Names flows may use after `env.`.
    public var envNames: Set<String> { Set(env.map(\.value)) }
}

/// Where the store lives.
public enum StoreSetting: Sendable, Hashable {
    case sqlite(path: String)
    case postgres(url: String)
}

/// `server:` settings.
public struct ServerSetting: Sendable, Hashable {
    public var port: Int = 8080
    public var maxBody: Int = 1 << 20
    /// HTTP worker threads. No thread waits for storage (connections are suspended until their
    /// group commit), so about one per core is enough.
    public var threads: Int = 2
    /// Seconds a connection may stay idle before it is closed (slow clients are cut off).
    public var idleTimeout: Int = 10
    /// A reference such as `env.HIREWIRE_EVENTS_TOKEN`.
    public var eventsToken: String?
    public var tlsCert: String?
    public var tlsKey: String?
    public init() {}
}

/// One entry of `connectors:`.
public struct ConnectorSetting: Sendable, Hashable {
    public var name: Located<String>
    /// The executable of a plugin connector, when this is one.
    public var plugin: String?
    /// The whole settings mapping as written.
    public var settings: Node
}

/// A business calendar as written in hirewire.yaml.
public struct CalendarSpec: Sendable, Hashable {
    public var name: Located<String>
    /// A zone expression evaluated per journey (`candidate.timezone`) or a quoted zone name.
    public var timezone: ExpressionSource?
    /// Weekly hours: day spec → time ranges, in written order.
    public var hours: [HoursEntry]
    public var holidays: [Located<String>]
}

/// `mon-fri: "09:00-17:30"`
public struct HoursEntry: Sendable, Hashable {
    public var days: Located<String>
    public var ranges: Located<String>
}

/// A message template file: `templates/NAME.yaml`.
public struct TemplateSpec: Sendable, Hashable {
    public var name: String
    public var file: String
    public var subject: TemplateText?
    public var text: TemplateText?
    public var html: TemplateText?
}

/// One Mustache text of a template and where its first character stands.
public struct TemplateText: Sendable, Hashable {
    public var source: String
    public var location: SourceLocation
    /// For block scalars, the content starts on the line after the indicator, at this column.
    public var isBlock: Bool
}

/// A vendor webhook source: `sources/NAME.yaml` (section 7 of the flow language).
public struct SourceSpec: Sendable, Hashable {
    public var name: Located<String>
    public var file: String
    /// The signature settings as written (scheme, secret, header, ...).
    public var signature: Node?
    public var eventId: ExpressionSource?
    public var rules: [SourceRule]
}

/// One mapping rule of a source.
public struct SourceRule: Sendable, Hashable {
    public var when: ExpressionSource?
    public var type: Located<String>
    public var occurredAt: ExpressionSource?
    /// Dotted canonical field → expression over the payload.
    public var data: [(field: Located<String>, expression: ExpressionSource)]
    /// `enrich: application`: fields the payload lacks are filled from earlier events of the same
    /// application (vendors such as Greenhouse send offers with ids only).
    public var enrichFromApplication: Bool = false
    public var location: SourceLocation

    public static func == (a: SourceRule, b: SourceRule) -> Bool {
        a.enrichFromApplication == b.enrichFromApplication && a.when == b.when && a.type == b.type && a.occurredAt == b.occurredAt && a.location == b.location
            && a.data.map(\.field) == b.data.map(\.field) && a.data.map(\.expression) == b.data.map(\.expression)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(location)
    }
}

/// A flow test file (`*.test.yaml`, section 9).
public struct FlowTestSpec: Sendable, Hashable {
    public var name: Located<String>
    public var file: String
    public var flow: Located<String>
    public var clock: Located<String>
    public var events: [FlowTestEvent]
    /// Expectations as written; the test runner interprets them.
    public var expect: [Node]
}

/// One event fed to a flow test.
public struct FlowTestEvent: Sendable, Hashable {
    /// `+20h` relative to the clock, or an RFC 3339 time.
    public var at: Located<String>
    public var type: Located<String>
    /// The event's data with `$ref`s resolved.
    public var data: Value
    public var location: SourceLocation
}
