import FoundationEssentials
import OCI
import ByteStreams
import Diagnostics

/// The model image mounted as a Kubernetes `image` volume (KEP-4639): pinned by
/// digest, read-only, at the directory the app reads the model from.
public struct ModelVolume: Sendable {
    public var image: Reference
    public var mountPath: String

    public init(image: Reference, mountPath: String) {
        self.image = image
        self.mountPath = mountPath
    }
}

/// Renders templates/k8s/*.yaml.mustache with the image pinned by digest.
///
/// Templates use the `YAML` content type: `{{value}}` becomes a double-quoted YAML
/// scalar (any text is safe), `{{{value}}}` is inserted raw (numbers). See
/// MustacheTemplate for what of Mustache they may use.
public struct ManifestRenderer {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// One rendered document per template that produced any (hpa.yaml is empty
    /// without autoscaling), in file-name order: (file name, YAML).
    public func render(image: Reference, settings: DeploySettings, name: String, containerPort: Int,
                       runAsUser: Int, runAsGroup: Int, modelVolume: ModelVolume? = nil) throws -> [(String, String)] {
        guard let digest = image.digest else {
            throw Failure(.internalFailure, "deploy needs an image pinned by digest, got \(image)")
        }
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml.mustache") }.sorted()
        } catch {
            throw Failure(.missingInput, "templates directory \(directory) cannot be read; check --templates", cause: error)
        }
        guard !files.isEmpty else {
            throw Failure(.missingInput, "templates directory \(directory) has no *.yaml.mustache files")
        }
        var context: [String: Any] = [
            "name": name, "namespace": settings.namespace, "image": "\(image.name)@\(digest)",
            "replicas": settings.replicas, "containerPort": containerPort, "servicePort": settings.servicePort,
            "serviceType": settings.serviceType, "healthPath": settings.healthPath,
            "cpuRequest": settings.cpuRequest, "memoryRequest": settings.memoryRequest,
            "cpuLimit": settings.cpuLimit, "memoryLimit": settings.memoryLimit,
            "runAsUser": runAsUser, "runAsGroup": runAsGroup,
            // The startup probe's budget in 5 s periods, at least one.
            "startupFailureThreshold": max(1, (settings.startupSeconds + 4) / 5),
            "hasEnv": !settings.env.isEmpty,
            "env": settings.env.map { ["name": $0.0, "value": $0.1] as [String: Any] },
        ]
        if let secret = settings.imagePullSecret { context["imagePullSecret"] = secret }
        if let modelVolume {
            guard let digest = modelVolume.image.digest else {
                throw Failure(.internalFailure, "the model image must be pinned by digest, got \(modelVolume.image)")
            }
            context["modelVolume"] = ["reference": "\(modelVolume.image.name)@\(digest)", "mountPath": modelVolume.mountPath] as [String: Any]
        }
        if let autoscale = settings.autoscale {
            context["autoscale"] = ["minReplicas": autoscale.minReplicas, "maxReplicas": autoscale.maxReplicas,
                                    "targetCPU": autoscale.targetCPU] as [String: Any]
        }
        var documents: [(String, String)] = []
        for file in files {
            let path = directory + "/" + file
            let template = try MustacheTemplate.load(path: path)
            let rendered = Self.tidy(template.render(context))
            if !rendered.isEmpty { documents.append((String(file.dropLast(".mustache".count)), rendered)) }
        }
        return documents
    }

    /// Drops lines left blank by sections, and returns "" for a document with no content.
    static func tidy(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingWhitespace().isEmpty }
        let meaningful = lines.contains { !$0.trimmingWhitespace().hasPrefix("#") }
        return meaningful ? lines.joined(separator: "\n") + "\n" : ""
    }

    /// All documents as one multi-document YAML stream.
    public static func stream(_ documents: [(String, String)]) -> String {
        documents.map { "---\n# \($0.0)\n\($0.1)" }.joined()
    }
}

