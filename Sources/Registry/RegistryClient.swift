import FoundationEssentials
import Glibc
import HTTP
import OCI
import Diagnostics

/// Requests to one registry from one thread (it owns a connection), with
/// authentication (anonymous, Basic, Bearer tokens incl. the OAuth2 refresh-token
/// form), redirects that never carry credentials to another host, and retries
/// with backoff on transient failures.
public final class RegistryClient {
    public let session: RegistrySession
    let transport: any HTTPClient

    public init(session: RegistrySession) throws {
        self.session = session
        transport = try session.connect(session.options)
    }

    /// `repository:<name>:pull` or `…:pull,push`.
    public static func scope(_ repository: String, push: Bool) -> String {
        "repository:\(repository):\(push ? "pull,push" : "pull")"
    }

    public func url(_ path: String) -> String { session.baseURL + path }

    /// Resolves a `Location` header against the registry (it may be relative).
    public func absolute(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : session.baseURL + (location.hasPrefix("/") ? "" : "/") + location
    }

    /// Sends a request with authentication for `scope`, following redirects and
    /// retrying transient failures under the session's policy. `retrying: false`
    /// for a request that is one step of an operation retried as a whole (a blob
    /// upload or download): its loop decides, so budgets never nest.
    public func send(_ request: HTTPRequest, scope: String, destination: ResponseDestination = .memory(limit: 4 << 20),
                     retrying: Bool = true, progress: ((Int64) -> Void)? = nil) throws -> HTTPResponse {
        let attempt = { try self.sendAuthenticated(request, scope: scope, destination: destination, progress: progress) }
        return retrying ? try session.retry.run(attempt) : try attempt()
    }

    private func sendAuthenticated(_ original: HTTPRequest, scope: String, destination: ResponseDestination,
                                   progress: ((Int64) -> Void)?) throws -> HTTPResponse {
        var request = original
        request.setHeader("Authorization", try authorization(for: scope))
        var response = try followRedirects(request, destination: destination, progress: progress)
        if response.status == 401, let header = response.header("WWW-Authenticate"), let challenge = AuthChallenge(header: header) {
            // First contact, or a token that expired mid-push (moby#33558): authenticate and resend once.
            session.remember(challenge)
            request.setHeader("Authorization", try authorization(for: scope, challenge: challenge, rejected: request.header("Authorization") ?? ""))
            response = try followRedirects(request, destination: destination, progress: progress)
        }
        return response
    }

    private func followRedirects(_ first: HTTPRequest, destination: ResponseDestination,
                                 progress: ((Int64) -> Void)?) throws -> HTTPResponse {
        var request = first
        let originalHost = Self.host(of: first.url)
        for _ in 0..<5 {
            let response: HTTPResponse
            do {
                response = try transport.perform(request, destination: destination, progress: progress)
            } catch let error as TransportError {
                if error.isTLSHandshakeFailure && request.url.hasPrefix("https://") {
                    throw Failure(.unavailable, "registry \(session.registry): the TLS handshake failed (\(error.message)); if it serves plain HTTP, pass --insecure-registry \(session.registry)", cause: error)
                }
                throw error.named("registry \(session.registry)")
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.header("Location") else {
                return response
            }
            request.url = location.hasPrefix("http") ? location : absoluteAgainst(request.url, location)
            // Docker Hub sends blob GETs to a CDN: credentials stay with the registry.
            if Self.host(of: request.url) != originalHost { request.setHeader("Authorization", nil) }
            if response.status == 303 { request.method = "GET"; request.body = .empty }
        }
        throw Failure(.unavailable, "registry \(session.registry): too many redirects for \(Redactor.url(first.url))")
    }

    private func absoluteAgainst(_ base: String, _ location: String) -> String {
        guard let scheme = base.firstRange(of: "://") else { return location }
        let authorityEnd = base[scheme.upperBound...].firstIndex(of: "/") ?? base.endIndex
        return String(base[..<authorityEnd]) + (location.hasPrefix("/") ? "" : "/") + location
    }

    static func host(of url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        return String(rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex)])
    }

    // MARK: authentication

    /// The Authorization header for `scope`, or nil before the registry has said what it wants.
    /// `rejected`: after a 401, the Authorization header the registry refused ("" when
    /// none was sent); a token another thread obtained since then is used, not fetched again.
    private func authorization(for scope: String, challenge given: AuthChallenge? = nil, rejected: String? = nil) throws -> String? {
        guard let challenge = given ?? session.knownChallenge else { return nil }
        switch challenge.scheme {
        case "basic":
            guard let basic = session.credentials?.basicAuthorization else {
                throw Failure(.authentication, "registry \(session.registry) needs a username and password; run 'gantry login \(session.registry)' or set GANTRY_REGISTRY_USERNAME/GANTRY_REGISTRY_PASSWORD")
            }
            return basic
        case "bearer":
            if rejected == nil, let token = session.tokens.token(for: scope) { return "Bearer \(token)" }
            return try session.tokenFetch.withLock { _ in
                // Another thread may have fetched one while this one waited.
                if let token = session.tokens.token(for: scope), "Bearer \(token)" != rejected { return "Bearer \(token)" }
                let (token, lifetime) = try fetchToken(challenge: challenge, scope: scope)
                session.tokens.store(token, for: scope, lifetime: lifetime)
                return "Bearer \(token)"
            }
        default:
            throw Failure(.authentication, "registry \(session.registry) asks for '\(challenge.scheme)' authentication, which gantry does not support")
        }
    }

    private struct TokenReply: Decodable {
        var token: String?
        var access_token: String?
        var refresh_token: String?
        var expires_in: Double?
    }

    /// distribution docs/spec/auth/token.md (GET) and oauth.md (POST with a refresh token).
    private func fetchToken(challenge: AuthChallenge, scope: String) throws -> (String, Double) {
        guard let realm = challenge.realm else {
            throw Failure(.authentication, "registry \(session.registry) sent a Bearer challenge without a realm")
        }
        let service = challenge.service ?? session.registry
        // One scope parameter per scope (a mount needs push on one repository and pull on another).
        var scopes = scope.split(separator: " ").map(String.init)
        // The challenge's own scope, unless what is asked already grants it (a push
        // token asked for `pull,push` needs no second `pull` entry).
        if let extra = challenge.scope, !scopes.contains(where: { TokenCache.scope($0, covers: extra) }) { scopes.append(extra) }
        let response: HTTPResponse
        if let refresh = try session.refreshToken(using: self, realm: realm, service: service) {
            var form = "grant_type=refresh_token&service=\(Self.formEncode(service))&client_id=gantry&refresh_token=\(Self.formEncode(refresh))"
            for scope in scopes { form += "&scope=\(Self.formEncode(scope))" }
            response = try tokenService(realm) {
                try transport.perform(HTTPRequest(method: "POST", url: realm,
                                                  headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                  body: .bytes(Array(form.utf8))))
            }
        } else {
            var url = realm + (realm.contains("?") ? "&" : "?") + "service=\(Self.formEncode(service))"
            for scope in scopes { url += "&scope=\(Self.formEncode(scope))" }
            var headers: [(String, String)] = []
            if let basic = session.credentials?.basicAuthorization { headers.append(("Authorization", basic)) }
            response = try tokenService(realm) { try transport.perform(HTTPRequest(method: "GET", url: url, headers: headers)) }
        }
        guard response.isSuccess else {
            if response.status == 401 || response.status == 403 {
                guard hasCredentials else { throw noCredentials(for: "a token") }
                throw Failure(.authentication, "registry \(session.registry) refused the credentials (token service answered \(response.status)); check 'gantry login \(session.registry)' or GANTRY_REGISTRY_USERNAME/GANTRY_REGISTRY_PASSWORD")
            }
            let said = RegistryError.entries(response.body).first.map { " (\(RegistryError.describe($0)))" } ?? ""
            throw Failure(.unavailable, "registry \(session.registry): token service \(Redactor.url(realm)) answered \(response.status)\(said); try again later")
        }
        // A 200 that is not a token document (a login page, a proxy's HTML) is the
        // token service misbehaving, not the credentials: its body is not shown (it
        // may echo them), only what kind of thing it was.
        guard let reply = try? JSONDecoder().decode(TokenReply.self, from: Data(response.body)) else {
            let type = response.header("Content-Type").map { "\($0.split(separator: ";").first ?? "") " } ?? ""
            throw Failure(.unavailable, "registry \(session.registry): token service \(Redactor.url(realm)) answered \(response.status) with \(type)content that is not a token (\(response.body.count) bytes, not JSON); check the registry's auth realm or a proxy in between")
        }
        guard let token = reply.token ?? reply.access_token, !token.isEmpty else {
            throw Failure(.unavailable, "registry \(session.registry): token service \(Redactor.url(realm)) answered \(response.status) with JSON that holds no token; check the registry's auth realm")
        }
        return (token, reply.expires_in ?? 60)
    }

    /// ACR: `POST https://<registry>/oauth2/exchange` turns an Entra ID access token
    /// into an ACR refresh token (Azure/acr docs/AAD-OAuth.md).
    func exchangeAADToken(_ token: String, tenant: String?, realm: String, service: String) throws -> String {
        let base = realm.firstRange(of: "/oauth2/").map { String(realm[..<$0.lowerBound]) } ?? session.baseURL
        var form = "grant_type=access_token&service=\(Self.formEncode(service))&access_token=\(Self.formEncode(token))"
        if let tenant { form += "&tenant=\(Self.formEncode(tenant))" }
        let response = try tokenService(base + "/oauth2/exchange") {
            try transport.perform(HTTPRequest(method: "POST", url: base + "/oauth2/exchange",
                                              headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                              body: .bytes(Array(form.utf8))))
        }
        guard response.isSuccess, let reply = try? JSONDecoder().decode(TokenReply.self, from: Data(response.body)),
              let refresh = reply.refresh_token else {
            throw Failure(.authentication, "registry \(session.registry) refused to exchange the Entra ID token (status \(response.status)); check GANTRY_AZURE_ACCESS_TOKEN")
        }
        return refresh
    }

    static func formEncode(_ text: String) -> String { PercentEncoding.unreserved(text) }

    /// One request to the token service, not retried here: it runs inside the
    /// registry request's own retry loop (one budget, not one inside another), and
    /// when it cannot be reached the error names the token service, not the registry.
    private func tokenService(_ url: String, _ request: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try request()
        } catch let error as TransportError {
            throw error.named("token service of registry \(session.registry)")
        }
    }

    private var hasCredentials: Bool { session.credentials != nil || session.aadAccessToken != nil }

    private func noCredentials(for what: String) -> Failure {
        let (kind, message) = RegistryError.noCredentials(registry: session.registry, for: what)
        return Failure(kind, message)
    }

    // MARK: errors

    /// The error for an unexpected answer to `what` (see `RegistryError`).
    public func failure(_ response: HTTPResponse, _ what: String) -> RegistryError {
        RegistryError(response, operation: what, registry: session.registry, hasCredentials: hasCredentials)
    }
}
