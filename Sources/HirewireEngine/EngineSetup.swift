import Foundation
import HirewireLanguage

/// What the step function knows about the project beyond one machine: calendars, message
/// templates and the fallback time zone. Immutable; built once per project version.
public struct EngineSetup: Sendable {
    public var calendars: [String: CompiledCalendar]
    public var templates: [String: MessageTemplate]
    public var defaultZone: TimeZone { didSet { defaultClock = ZoneClock(defaultZone) } }
    /// The wall clock of `defaultZone`.
    public private(set) var defaultClock: ZoneClock
    /// The fallback zone's name as timelines give it: Foundation calls UTC "GMT".
    public var defaultZoneName: String { defaultZone.identifier == "GMT" ? "UTC" : defaultZone.identifier }

    public init(calendars: [String: CompiledCalendar] = [:], templates: [String: MessageTemplate] = [:], defaultZone: TimeZone) {
        self.calendars = calendars
        self.templates = templates
        self.defaultZone = defaultZone
        defaultClock = ZoneClock(defaultZone)
    }

    /// The setup of a compiled project.
    public init(_ project: CompiledProject) {
        let zoneName = project.files.config.defaultTimezone?.value ?? "UTC"
        self.init(calendars: project.calendars, templates: project.templates,
                  defaultZone: ZoneNames.zone(zoneName) ?? TimeZone(identifier: "UTC") ?? .current)
    }
}
