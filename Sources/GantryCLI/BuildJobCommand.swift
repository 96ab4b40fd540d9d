import FoundationEssentials
import ArgumentParser
import OCI
import ByteStreams
import ContentStore
import Deploy
import ImageBuild
import Diagnostics
import SystemSupport

/// `gantry build-job`: the Kubernetes Job that builds and pushes with gantry's own
/// image inside the cluster (kaniko's job, without its privileges).
struct BuildJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-job",
        abstract: "Print a Kubernetes Job that builds a git repository's recipe with gantry's image and pushes it.",
        discussion: """
        The Job runs as a non-root user with no privileges, no host mounts and a read-only root filesystem;
        registry credentials come from a kubernetes.io/dockerconfigjson Secret. Apply it with
        'gantry build-job … | kubectl apply -f -'. Templates: templates/k8s/build-job.yaml.mustache.
        """)

    @Option(help: "gantry's image (scripts/build-self-image), best pinned by digest: REPO@sha256:…")
    var gantryImage: String

    @Option(help: "Git repository to clone (https://…).")
    var git: String

    @Option(help: "Branch or tag to build (default main).")
    var revision = "main"

    @Option(help: "Recipe path inside the repository (default gantry.yaml).")
    var recipe = "gantry.yaml"

    @Option(help: "Where to push the image: REGISTRY/REPOSITORY[:TAG].")
    var push: String

    @Option(name: .customLong("push-tag"), help: "Also tag the pushed image with this tag. Repeatable.")
    var pushTags: [String] = []

    @Option(help: "kubernetes.io/dockerconfigjson Secret with the registry's credentials (default gantry-registry).")
    var registrySecret = "gantry-registry"

    @Option(help: "Secret whose keys become the build's environment (model storage credentials: AZURE_STORAGE_*, AWS_*).")
    var envSecret: String?

    @Option(help: "Job name (default: build-<repository's last part>).")
    var name: String?

    @Option(help: "Namespace (default: default).")
    var namespace = "default"

    @Option(help: "Directory of templates (default: gantry's templates/k8s).")
    var templates: String?

    func run() throws {
        let image = try Reference(parsing: gantryImage)
        let destination = try Reference(parsing: push)
        for tag in pushTags where (try? Reference(parsing: "x:\(tag)")) == nil {
            throw Failure(.usage, "--push-tag '\(tag)' is not a valid tag: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
        }
        guard git.hasPrefix("https://") || git.hasPrefix("ssh://") || git.hasPrefix("git@") else {
            throw Failure(.usage, "--git \(git) must be a repository URL (https://…, ssh://… or git@host:path)")
        }
        let jobName = name ?? "build-" + PathName.lastComponent(of: destination.repository)
        try Self.checkName(jobName, what: "job name")
        try Self.checkName(namespace, what: "--namespace")
        for secret in [registrySecret] + [envSecret].compactMap({ $0 }) { try Self.checkName(secret, what: "secret name") }
        if image.digest == nil {
            Warnings.emit("--gantry-image \(image) is not pinned by digest: the Job runs whatever the tag points at when it starts")
        }
        var settings = BuildJobSettings(name: jobName, gantryImage: image, repository: git, destination: destination)
        settings.namespace = namespace
        settings.revision = revision
        settings.recipe = recipe
        settings.pushTags = pushTags
        settings.registrySecret = registrySecret
        settings.envSecret = envSecret
        print(try BuildJobRenderer(directory: templates ?? (try TemplateLocator.directory() + "/k8s")).render(settings), terminator: "")
    }

    /// Kubernetes names: DNS-1123 labels (lower-case letters, digits, '-'; at most 63).
    static func checkName(_ text: String, what: String) throws {
        let allowed = text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard allowed, (1...63).contains(text.utf8.count), text.first != "-", text.last != "-" else {
            throw Failure(.usage, "\(what) '\(text)' is not a Kubernetes name: 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit; choose another (--name)")
        }
    }
}
