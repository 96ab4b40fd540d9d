import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import SystemSupport

/// What gantry can present to a registry.
public struct Credentials: Sendable, Equatable {
    public var username: String?
    public var password: String?
    /// An OAuth2 refresh token (docker's `identitytoken`; an ACR refresh token).
    public var identityToken: String?

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }

    /// ACR: a refresh token is presented as the password of this fixed user
    /// (Azure/acr docs/AAD-OAuth.md); gantry then uses it in the OAuth2 refresh flow.
    public static let acrTokenUser = "00000000-0000-0000-0000-000000000000"

    /// The refresh token to use in the OAuth2 form, if these credentials carry one.
    var refreshToken: String? {
        if let identityToken { return identityToken }
        if username == Credentials.acrTokenUser { return password }
        return nil
    }

    var basicAuthorization: String? {
        guard let username, let password, refreshToken == nil else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// Finds credentials for a registry host, in this order:
/// 1. `GANTRY_REGISTRY_USERNAME` / `GANTRY_REGISTRY_PASSWORD` (or `GANTRY_REGISTRY_TOKEN`,
///    a refresh token) for CI, limited to `GANTRY_REGISTRY` when that is set;
/// 2. `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `credHelpers.<host>`,
///    then `auths.<host>`, then `credsStore` (docker/cli `cli/config`).
public struct CredentialResolver: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func credentials(for registry: String) throws -> Credentials? {
        if let fromEnvironment = environmentCredentials(for: registry) { return fromEnvironment }
        let config = try DockerConfigFile(environment: environment).read()
        let keys = DockerConfigFile.keys(for: registry)
        if let helper = keys.lazy.compactMap({ config.credHelpers[$0] }).first {
            return try CredentialHelper(name: helper).get(serverURL: keys[0])
        }
        if let entry = keys.lazy.compactMap({ config.auths[$0] }).first, let credentials = try entry.credentials(registry: registry) {
            return credentials
        }
        if let store = config.credsStore {
            return try CredentialHelper(name: store).get(serverURL: keys[0])
        }
        return nil
    }

    private func environmentCredentials(for registry: String) -> Credentials? {
        if let only = environment["GANTRY_REGISTRY"], !only.isEmpty, only != registry { return nil }
        if let token = environment["GANTRY_REGISTRY_TOKEN"], !token.isEmpty {
            return Credentials(identityToken: token)
        }
        guard let username = environment["GANTRY_REGISTRY_USERNAME"], !username.isEmpty,
              let password = environment["GANTRY_REGISTRY_PASSWORD"] else { return nil }
        return Credentials(username: username, password: password)
    }
}

/// A `docker-credential-<name>` program: `get` with the server URL on stdin,
/// `{"ServerURL","Username","Secret"}` on stdout; Username `<token>` means Secret
/// is an identity token; "credentials not found" means anonymous.
struct CredentialHelper {
    let name: String

    func get(serverURL: String) throws -> Credentials? {
        let program = "docker-credential-\(name)"
        let result: Subprocess.Result
        do {
            result = try Subprocess(program, ["get"], input: Array(serverURL.utf8)).run()
        } catch let failure as Subprocess.LaunchFailure {
            throw Failure(.authentication, "\(failure); install it or remove it from the docker config", cause: failure)
        }
        let data = Data(result.output.utf8)
        if result.status != 0 {
            if (result.output + result.errors).lowercased().contains("credentials not found") { return nil }
            throw Failure(.authentication, "credential helper \(program) failed for \(serverURL) (exit \(result.status))")
        }
        struct Reply: Decodable { var Username: String?; var Secret: String? }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: data) else {
            throw Failure(.authentication, "credential helper \(program) gave an answer that is not JSON for \(serverURL)")
        }
        if reply.Username == "<token>" { return Credentials(identityToken: reply.Secret) }
        return Credentials(username: reply.Username, password: reply.Secret)
    }
}
