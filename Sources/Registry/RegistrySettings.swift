import HTTP
import OCI

/// How gantry talks to registries, from flags: shared by pull, push, login and inspect.
public struct RegistrySettings: Sendable {
    /// Hosts (host or host:port) reached over plain HTTP. Loopback always is.
    public var insecureRegistries: [String] = []
    public var http = HTTPOptions()
    public var upload = UploadSettings()
    public var credentials = CredentialResolver()

    public init() {}

    /// A session for `registry` with the credentials gantry finds for it.
    public func session(for registry: String) throws -> RegistrySession {
        RegistrySession(registry: registry, insecureRegistries: insecureRegistries,
                        credentials: try credentials.credentials(for: registry), options: http,
                        environment: credentials.environment)
    }
}
