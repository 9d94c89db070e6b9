/// Reads `hirewire.yaml` into a ``ProjectConfig``.
struct ConfigReader {
    let reader: NodeReader
    let file: String

    static let topKeys = ["store", "server", "env", "default_timezone", "connectors", "calendars", "outbound", "retention"]

    func read(_ root: Node) -> ProjectConfig {
        var config = ProjectConfig.defaults
        config.file = file
        guard let top = reader.mapping(root, "hirewire.yaml", allowed: Self.topKeys) else { return config }
        if let s = top["store"], let m = reader.mapping(s.value, "store", allowed: ["sqlite", "postgres"]) {
            if let p = m["sqlite"].flatMap({ reader.string($0.value, "store.sqlite") }) { config.store = .sqlite(path: p.value) }
            if let p = m["postgres"].flatMap({ reader.string($0.value, "store.postgres") }) {
                config.store = .postgres(url: p.value)
                reader.warning("store.postgres: this version has no PostgreSQL store yet; serve and the store commands refuse to start with it",
                               at: p.location, code: "store-unsupported")
            }
        }
        if let s = top["server"], let m = reader.mapping(s.value, "server", allowed: ["port", "max_body", "events_token", "tls", "threads", "idle_timeout"]) {
            if let port = m["port"].flatMap({ reader.integer($0.value, "server.port", in: 0...65535) }) { config.server.port = port.value }
            if let threads = m["threads"].flatMap({ reader.integer($0.value, "server.threads", in: 1...256) }) { config.server.threads = threads.value }
            if let body = m["max_body"] {
                if let text = reader.string(body.value, "server.max_body"), let bytes = ByteSize.parse(text.value) {
                    config.server.maxBody = bytes
                } else {
                    reader.error("server.max_body must be a size such as 1MiB or 512KiB", at: body.value.location, code: "invalid-value")
                }
            }
            if let idle = m["idle_timeout"], let text = reader.string(idle.value, "server.idle_timeout") {
                if case .success(let seconds) = DurationSyntax.parse(text.value), seconds >= 1, seconds <= 3600 {
                    config.server.idleTimeout = Int(seconds)
                } else {
                    reader.error("server.idle_timeout must be a duration from 1s to 1h, such as 10s", at: idle.value.location, code: "invalid-value")
                }
            }
            config.server.eventsToken = m["events_token"].flatMap { reader.string($0.value, "server.events_token")?.value }
            if let tls = m["tls"], let t = reader.mapping(tls.value, "server.tls", allowed: ["cert", "key"]) {
                config.server.tlsCert = t["cert"].flatMap { reader.string($0.value, "tls.cert")?.value }
                config.server.tlsKey = t["key"].flatMap { reader.string($0.value, "tls.key")?.value }
                if config.server.tlsCert == nil || config.server.tlsKey == nil {
                    reader.error("server.tls needs both cert and key", at: tls.key.location, code: "missing-key")
                }
            }
        }
        if let e = top["env"] {
            config.env = reader.names(e.value, "env")
            for name in config.env where name.value.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) == nil {
                reader.error("'\(name.value)' is not an environment variable name", at: name.location, code: "invalid-value")
            }
        }
        config.defaultTimezone = top["default_timezone"].flatMap { reader.string($0.value, "default_timezone") }
        if let c = top["connectors"] {
            if let pairs = c.value.pairs {
                for pair in pairs {
                    var plugin: String?
                    if let settings = pair.value.pairs, let p = settings.first(where: { $0.name == "plugin" }) {
                        plugin = reader.string(p.value, "plugin")?.value
                    } else if pair.value.pairs == nil, !pair.value.isNull {
                        reader.error("connector '\(pair.name)' settings must be a mapping", at: pair.value.location, code: "invalid-value")
                    }
                    config.connectors.append(ConnectorSetting(name: Located(pair.name, at: pair.key.location), plugin: plugin, settings: pair.value))
                }
            } else {
                reader.error("connectors must be a mapping of connector names", at: c.value.location, code: "invalid-value")
            }
        }
        if let c = top["calendars"] {
            if let pairs = c.value.pairs {
                config.calendars = pairs.compactMap(readCalendar)
            } else {
                reader.error("calendars must be a mapping of calendar names", at: c.value.location, code: "invalid-value")
            }
        }
        if let o = top["outbound"], let m = reader.mapping(o.value, "outbound", allowed: ["allow_private_networks"]) {
            config.allowPrivateNetworks = m["allow_private_networks"].flatMap { reader.bool($0.value, "allow_private_networks") } ?? false
        }
        if let r = top["retention"], let m = reader.mapping(r.value, "retention", allowed: ["events", "personal_data"]) {
            if let d = m["events"].flatMap({ reader.duration($0.value, "retention.events") }) { config.retentionEvents = d.value }
            if let d = m["personal_data"].flatMap({ reader.duration($0.value, "retention.personal_data") }) { config.retentionPersonalData = d.value }
        }
        return config
    }

    private func readCalendar(_ pair: Node.Pair) -> CalendarSpec? {
        guard let m = reader.mapping(pair.value, "calendar '\(pair.name)'", allowed: ["timezone", "hours", "holidays"]) else { return nil }
        var hours: [HoursEntry] = []
        if let h = m["hours"] {
            if let entries = h.value.pairs {
                for entry in entries {
                    if let ranges = reader.string(entry.value, "hours '\(entry.name)'") {
                        hours.append(HoursEntry(days: Located(entry.name, at: entry.key.location), ranges: ranges))
                    }
                }
            } else {
                reader.error("hours must map days to time ranges, such as {mon-fri: \"09:00-17:30\"}", at: h.value.location, code: "invalid-value")
            }
        } else {
            reader.missing("hours", in: "calendar '\(pair.name)'", at: pair.key.location)
        }
        let holidays = m["holidays"].map { reader.names($0.value, "holiday") } ?? []
        return CalendarSpec(name: Located(pair.name, at: pair.key.location),
                            timezone: m["timezone"].flatMap { reader.expression($0.value, "calendar timezone") },
                            hours: hours, holidays: holidays)
    }
}

/// Byte sizes for configuration: `1MiB`, `512KiB`, `10MB`, `4096`.
public enum ByteSize {
    /// Bytes, or nil when the text is not a size.
    public static func parse(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
                                      ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("kB", 1000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return n * factor
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }
}
