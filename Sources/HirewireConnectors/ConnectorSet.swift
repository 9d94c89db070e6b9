import Foundation
import HirewireEngine
import HirewireLanguage
import HirewireStore

/// The connectors a project uses: the built-ins, configured from hirewire.yaml's `connectors:`
/// (each falls back to its local default when unconfigured), and one plugin host per plugin.
public enum ConnectorSet {
    /// The environment connectors read settings and secrets from.
    public static func environment(project: CompiledProject, root: String, env: [String: String]) -> ConnectorEnvironment {
        var settings: [String: Value] = [:]
        for connector in project.files.config.connectors { settings[connector.name.value] = connector.settings.toValue() }
        return ConnectorEnvironment(root: root, settings: settings, env: env, allowPrivateNetworks: project.files.config.allowPrivateNetworks)
    }

    /// Built-in connectors plus `plugins` (already started hosts).
    public static func builtIns(_ environment: ConnectorEnvironment, store: any OutboxStore) -> [any Connector] {
        [EmailConnector(environment: environment), SlackConnector(environment: environment), TeamsConnector(environment: environment),
         SMSConnector(environment: environment), HTTPConnector(environment: environment), CRMConnector(environment: environment),
         TaskConnector(environment: environment, store: store)]
    }

    /// Requests per second for connectors with `rate:` set.
    public static func rates(_ environment: ConnectorEnvironment) -> [String: Double] {
        var out: [String: Double] = [:]
        for (name, settings) in environment.settings {
            if let rate = settings["rate"].numberValue, rate > 0 { out[name] = rate }
        }
        return out
    }
}
