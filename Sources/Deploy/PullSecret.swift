import FoundationEssentials
import Glibc

/// A `kubernetes.io/dockerconfigjson` Secret built from the registry credentials
/// gantry already has. Applied through kubectl's stdin; never printed.
public enum PullSecret {
    public static func manifest(name: String, namespace: String, registry: String, username: String, password: String) -> String {
        let auth = Data("\(username):\(password)".utf8).base64EncodedString()
        let config = ["auths": [registry: DockerAuth(username: username, password: password, auth: auth)]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings cannot fail.
        let json = (try? encoder.encode(config)) ?? Data()
        return """
        apiVersion: v1
        kind: Secret
        metadata:
          name: "\(name)"
          namespace: "\(namespace)"
          labels:
            app.kubernetes.io/managed-by: gantry
        type: kubernetes.io/dockerconfigjson
        data:
          .dockerconfigjson: \(json.base64EncodedString())

        """
    }

    /// One registry's entry in a docker config.json.
    struct DockerAuth: Encodable {
        let username: String
        let password: String
        let auth: String
    }

    /// What `--dry-run` shows instead of the secret's content.
    public static func placeholder(name: String, namespace: String, registry: String) -> String {
        "# Secret \(namespace)/\(name) (kubernetes.io/dockerconfigjson for \(registry)) is applied too; its content is never printed.\n"
    }
}
