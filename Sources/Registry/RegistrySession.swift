import FoundationEssentials
import Glibc
import Synchronization
import HTTP
import Diagnostics

/// Everything about one registry that the threads of a push or pull share:
/// where it is, how to authenticate, and the tokens obtained so far.
public final class RegistrySession: Sendable {
    public let registry: String
    /// `https://host` (or `http://host` for loopback and `--insecure-registry` hosts).
    public let baseURL: String
    let credentials: Credentials?
    /// An Entra ID (AAD) access token to exchange for an ACR refresh token.
    let aadAccessToken: String?
    let aadTenant: String?
    public let options: HTTPOptions
    let retry: RetryPolicy
    /// Opens a connection for one thread: libcurl, or a scripted client in tests.
    let connect: HTTPClientFactory
    let tokens = TokenCache()
    /// Held while a token is fetched: threads that need one at once (parallel blob
    /// uploads) wait for the first to get it instead of each asking the token service.
    let tokenFetch = Mutex<Void>(())
    /// The registry's last authentication challenge, and a refresh token obtained by exchange.
    private let learned = Mutex<(challenge: AuthChallenge?, exchangedRefreshToken: String?)>((nil, nil))

    public init(registry: String, insecureRegistries: [String] = [], credentials: Credentials?,
                options: HTTPOptions, retry: RetryPolicy = .standard,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                connect: @escaping HTTPClientFactory = HTTPTransport.factory) {
        self.registry = registry
        let host = registry.split(separator: ":").first.map(String.init) ?? registry
        // Plain HTTP only where no one else can listen in: loopback, or hosts named explicitly.
        let plain = ["localhost", "127.0.0.1", "[::1]"].contains(host) || host.hasPrefix("127.") || insecureRegistries.contains(registry) || insecureRegistries.contains(host)
        baseURL = (plain ? "http://" : "https://") + (registry == "docker.io" ? "registry-1.docker.io" : registry)
        self.credentials = credentials
        aadAccessToken = environment["GANTRY_AZURE_ACCESS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        aadTenant = environment["GANTRY_AZURE_TENANT_ID"]
        self.options = options
        self.retry = retry
        self.connect = connect
    }

    var knownChallenge: AuthChallenge? { learned.withLock { $0.challenge } }

    func remember(_ challenge: AuthChallenge) { learned.withLock { $0.challenge = challenge } }

    /// The refresh token for the OAuth2 form: from the credentials, or obtained once
    /// by exchanging an AAD access token at ACR's `/oauth2/exchange`.
    func refreshToken(using client: RegistryClient, realm: String, service: String) throws -> String? {
        if let token = credentials?.refreshToken { return token }
        guard let aad = aadAccessToken else { return nil }
        if let exchanged = learned.withLock({ $0.exchangedRefreshToken }) { return exchanged }
        // Not under the lock: a network call. Two threads may both exchange once; either token works.
        let exchanged = try client.exchangeAADToken(aad, tenant: aadTenant, realm: realm, service: service)
        learned.withLock { $0.exchangedRefreshToken = exchanged }
        return exchanged
    }
}
