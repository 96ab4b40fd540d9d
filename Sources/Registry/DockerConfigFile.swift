import FoundationEssentials
import Glibc
import ByteStreams
import ContentStore
import OCI
import Diagnostics
import SystemSupport

/// Docker's client config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
/// Reading keeps only what gantry uses; `login` rewrites the file keeping every
/// other field as it was.
public struct DockerConfigFile: Sendable {
    public let path: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty {
            path = directory + "/config.json"
        } else {
            path = (environment["HOME"] ?? PathName.homeDirectory) + "/.docker/config.json"
        }
    }

    struct AuthEntry: Decodable {
        var auth: String?
        var username: String?
        var password: String?
        var identitytoken: String?

        func credentials(registry: String) throws -> Credentials? {
            if let identitytoken, !identitytoken.isEmpty {
                return Credentials(username: username, identityToken: identitytoken)
            }
            if let auth, !auth.isEmpty {
                guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8),
                      let colon = text.firstIndex(of: ":") else {
                    throw Failure(.authentication, "the docker config's 'auth' entry for \(registry) is not base64 of user:password; run 'gantry login \(registry)' again")
                }
                return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            }
            if let username, let password { return Credentials(username: username, password: password) }
            return nil
        }
    }

    struct Contents: Decodable {
        var auths: [String: AuthEntry] = [:]
        var credHelpers: [String: String] = [:]
        var credsStore: String?

        enum CodingKeys: String, CodingKey { case auths, credHelpers, credsStore }

        init() {}

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            auths = try container.decodeIfPresent([String: AuthEntry].self, forKey: .auths) ?? [:]
            credHelpers = try container.decodeIfPresent([String: String].self, forKey: .credHelpers) ?? [:]
            credsStore = try container.decodeIfPresent(String.self, forKey: .credsStore)
        }
    }

    func read() throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return Contents() }
        return try CanonicalJSON.decode(Contents.self, from: try FileReader.readSmallFile(path), source: path)
    }

    /// The keys docker uses for a registry; Docker Hub's is its v1 URL.
    static func keys(for registry: String) -> [String] {
        if registry == "docker.io" || registry == "index.docker.io" || registry == "registry-1.docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io"]
        }
        return [registry, "https://\(registry)", "http://\(registry)", "https://\(registry)/v1/"]
    }

    /// Stores `auth` (base64 user:password) for `registry` as `docker login` does,
    /// keeping every other field of the file. Written atomically, mode 0600.
    public func saveLogin(registry: String, username: String, password: String) throws {
        var root: [String: JSONValue] = [:]
        if FileManager.default.fileExists(atPath: path) {
            guard case .object(let existing) = try CanonicalJSON.decode(JSONValue.self, from: try FileReader.readSmallFile(path), source: path) else {
                throw Failure(.invalidInput, "\(path) is not a JSON object; fix or remove it")
            }
            root = existing
        }
        var auths: [String: JSONValue] = [:]
        if case .object(let existing)? = root["auths"] { auths = existing }
        let key = DockerConfigFile.keys(for: registry)[0]
        auths[key] = .object(["auth": .string(Data("\(username):\(password)".utf8).base64EncodedString())])
        root["auths"] = .object(auths)
        let directory = PathName.parent(of: path)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // 0600 from creation on: the file holds a password.
        try AtomicFile.write(try CanonicalJSON.encode(JSONValue.object(root)), to: path, mode: 0o600)
    }
}
