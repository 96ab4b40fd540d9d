import FoundationEssentials
import OCI
import ByteStreams
import Diagnostics

/// What `gantry build-job` puts in templates/k8s/build-job.yaml.mustache: a build
/// of a git repository's recipe by gantry's own image, pushed to a registry.
public struct BuildJobSettings: Sendable {
    public var name: String
    public var namespace = "default"
    /// gantry's image (`scripts/build-self-image`), best pinned by digest.
    public var gantryImage: Reference
    public var repository: String
    /// A branch or tag (git clone --branch).
    public var revision = "main"
    /// The recipe, relative to the repository's root.
    public var recipe = "gantry.yaml"
    public var destination: Reference
    public var pushTags: [String] = []
    /// A kubernetes.io/dockerconfigjson Secret with the registry's credentials.
    public var registrySecret = "gantry-registry"
    /// A Secret whose keys become environment variables (model storage credentials).
    public var envSecret: String?
    public var gitImage = "docker.io/alpine/git:2.47.2"
    public var deadlineSeconds = 3600
    public var cpuRequest = "1"
    public var memoryRequest = "1Gi"
    public var memoryLimit = "4Gi"

    public init(name: String, gantryImage: Reference, repository: String, destination: Reference) {
        self.name = name
        self.gantryImage = gantryImage
        self.repository = repository
        self.destination = destination
    }
}

/// Renders the build Job from the same templates directory as `gantry deploy`
/// (whose render leaves the Job out: the template is inside a `job` section).
public struct BuildJobRenderer {
    public static let templateName = "build-job.yaml.mustache"
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func render(_ settings: BuildJobSettings) throws -> String {
        let path = directory + "/" + Self.templateName
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(.missingInput, "template \(path) does not exist; check --templates")
        }
        guard !settings.recipe.hasPrefix("/"), !settings.recipe.split(separator: "/").contains("..") else {
            throw Failure(.usage, "--recipe \(settings.recipe) must be a path inside the repository, e.g. app/gantry.yaml")
        }
        let template = try MustacheTemplate.load(path: path)
        var job: [String: Any] = [
            "name": settings.name, "namespace": settings.namespace, "gantryImage": settings.gantryImage.description,
            "gitImage": settings.gitImage, "repository": settings.repository, "revision": settings.revision,
            "recipePath": "/workspace/src/" + settings.recipe, "destination": settings.destination.description,
            "pushTags": settings.pushTags.map { ["tag": $0] as [String: Any] },
            "registrySecret": settings.registrySecret, "deadlineSeconds": settings.deadlineSeconds,
            "cpuRequest": settings.cpuRequest, "memoryRequest": settings.memoryRequest, "memoryLimit": settings.memoryLimit,
        ]
        if let envSecret = settings.envSecret { job["envSecret"] = envSecret }
        let rendered = ManifestRenderer.tidy(template.render(["job": job]))
        guard !rendered.isEmpty else { throw Failure(.invalidInput, "template \(path) rendered nothing; it must hold a {{#job}} section") }
        return rendered
    }
}
