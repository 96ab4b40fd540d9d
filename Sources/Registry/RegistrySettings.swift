import HTTP
import OCI

/// How gantry talks to registries, from flags: shared by pull, push, login and inspect.
public struct RegistrySettings: Sendable {
    /// Hosts (host or host:port) reached over plain HTTP. Loopback always is.
    public var insecureRegistries: [String] = []
    public var http = HTTPOptions()
    public var upload = UploadSettings()
    public var credentials = CredentialResolver()
    /// Shared by every copy of these settings: one command, one session per registry.
    /// The CLI hands every command's settings the same pool (`RegistrySessionPool.command`).
    public var sessions = RegistrySessionPool()

    public init() {}

    /// The command's session for `registry`, with the credentials gantry finds for
    /// it (looked up once). Settings that shape a session are part of its key, so a
    /// copy with other HTTP options gets a session of its own.
    public func session(for registry: String) throws -> RegistrySession {
        try sessions.session(key: sessionKey(registry)) {
            RegistrySession(registry: registry, insecureRegistries: insecureRegistries,
                            credentials: try credentials.credentials(for: registry), options: http,
                            environment: credentials.environment)
        }
    }

    /// Makes `session` the one these settings (and every copy sharing the pool)
    /// use for its registry: a caller that made its own (a test's scripted
    /// transport, an embedding program's connections) hands it down this way.
    public func use(_ session: RegistrySession) {
        sessions.replace(key: sessionKey(session.registry), with: session)
    }

    private func sessionKey(_ registry: String) -> String {
        [registry, insecureRegistries.joined(separator: ","), http.caFile ?? "", String(http.verbose),
         String(http.connectTimeout), String(http.stallTimeout), String(http.makeSocket != nil)].joined(separator: "|")
    }
}
