import FoundationEssentials
import Glibc
import ByteStreams
import ArgumentParser
import OCI
import ImageBuild
import Images
import ContentStore
import Registry
import Deploy
import Recipes
import Publishing
import Diagnostics
import SystemSupport

/// `gantry deploy [REF]`: render templates/k8s with the image pinned by digest,
/// apply them with kubectl, and wait for the rollout.
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Roll an image out on Kubernetes behind a load balancer, pinned by digest.",
        discussion: """
        REF defaults to the image of the last 'gantry push' or 'gantry build --push'; a tag is resolved to its
        digest in the registry first. Manifests come from templates/k8s (or --templates) filled from 'deploy:'
        in gantry.yaml and the flags, then go to 'kubectl apply --server-side --field-manager=gantry -f -'.
        """)

    @Argument(help: "Image to deploy, e.g. myreg.azurecr.io/app:1.0 or …@sha256:… (default: the last push).")
    var image: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "Recipe with a 'deploy:' section (default: ./gantry.yaml when it exists).")
    var recipeFile: String?

    @Option(help: "Name of the Deployment and Service (default: the image repository's last part).")
    var name: String?

    @Option(help: "Namespace (default: default).")
    var namespace: String?

    @Option(help: "Replicas.")
    var replicas: Int?

    @Option(name: .customLong("set"), help: "key=value for any deploy setting (replicas, serviceType, port, env.NAME, autoscale.maxReplicas, …). Repeatable.")
    var settings: [String] = []

    @Option(help: "Directory of *.yaml.mustache templates (default: gantry's templates/k8s).")
    var templates: String?

    @Option(help: "kubeconfig file (default: kubectl's own choice).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context.")
    var context: String?

    @Option(help: "kubectl to run (default: the one on PATH).")
    var kubectl: String?

    @Option(help: "The model image to mount as an image volume (REPO:TAG or REPO@sha256:…), pinned by digest; default: the one the last build --push with model.image pushed.")
    var model: String?

    @Option(help: "Platform whose config (ports, user) a multi-platform image is read from (default: its first linux image).")
    var platform: String?

    @Option(help: "Seconds to wait for the rollout (default 300).")
    var timeout = 300

    @Flag(help: "Print the manifests instead of applying them.")
    var dryRun = false

    @Option(help: "Write the manifests into this directory instead of applying them.")
    var output: String?

    @Option(name: .customLong("create-pull-secret"), help: "Create (or update) this docker-registry secret from gantry's registry credentials and use it.")
    var pullSecret: String?

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        var deploy = try loadSettings()
        let wantedPlatform = try platform.map(Platform.init(parsing:))
        let store = try self.store.open()
        let reference = try imageReference(store: store)
        let registrySettings = try registry.settings()
        let session = try registrySettings.session(for: reference.registry)
        let puller = ImagePuller(store: store, session: session, observer: nil)
        var pinned = reference
        do {
            pinned.digest = try puller.resolveDigest(reference)
        } catch let error as GantryError {
            throw Failure("image \(reference) does not resolve to a digest", wrapping: error)
        }
        let config = try? imageConfig(pinned, platform: wantedPlatform, store: store, puller: puller)
        if let pullSecret { deploy.imagePullSecret = pullSecret }
        let name = deploy.name ?? Self.defaultName(for: reference)
        let (user, group) = Self.user(of: config, settings: deploy)
        let modelVolume = try self.modelVolume(settings: deploy, store: store, registrySettings: registrySettings)
        let documents = try ManifestRenderer(directory: templates ?? (try TemplateLocator.directory() + "/k8s"))
            .render(image: pinned, settings: deploy, name: name, containerPort: deploy.containerPort ?? Self.port(of: config),
                    runAsUser: user, runAsGroup: group, modelVolume: modelVolume)
        let stream = ManifestRenderer.stream(documents)

        if dryRun || output != nil {
            if let output { try write(documents, to: output) }
            if dryRun {
                print(stream, terminator: "")
                if let pullSecret { print(PullSecret.placeholder(name: pullSecret, namespace: deploy.namespace, registry: reference.registry)) }
            }
            return
        }
        let kubectl = try Kubectl(path: self.kubectl, kubeconfig: kubeconfig, context: context)
        var applied = stream
        if let pullSecret {
            guard let credentials = try registrySettings.credentials.credentials(for: reference.registry),
                  let password = credentials.password ?? credentials.identityToken else {
                throw Failure(.authentication, "--create-pull-secret: gantry has no credentials for \(reference.registry); run 'gantry login \(reference.registry)' first")
            }
            let username = credentials.identityToken != nil && credentials.password == nil ? Credentials.acrTokenUser : (credentials.username ?? "")
            applied = "---\n" + PullSecret.manifest(name: pullSecret, namespace: deploy.namespace, registry: reference.registry,
                                                  username: username, password: password) + stream
        }
        StandardError.write("deploying \(pinned.name)@\(pinned.digest!) as \(deploy.namespace)/\(name)\n")
        if let modelVolume, let digest = modelVolume.image.digest {
            StandardError.write("  model image \(modelVolume.image.name)@\(digest) at \(modelVolume.mountPath)\n")
        }
        for line in try kubectl.apply(applied).split(separator: "\n") { StandardError.write("  \(line)\n") }
        do {
            try kubectl.waitForRollout(deployment: name, namespace: deploy.namespace, timeoutSeconds: timeout) { line in
                StandardError.write("  \(line)\n")
            }
        } catch {
            StandardError.write(kubectl.diagnostics(deployment: name, namespace: deploy.namespace))
            throw error
        }
        print("\(pinned.name)@\(pinned.digest!)")
    }

    /// The model image volume, when there is a model image and the delivery is a
    /// volume: `--model`, else the model image pushed with the last build (only when
    /// deploying that build). `auto` asks the cluster: image volumes need 1.35.
    private func modelVolume(settings: DeploySettings, store: ContentStore, registrySettings: RegistrySettings) throws -> ModelVolume? {
        let text = model ?? (image == nil ? LastPush.loadModel(from: store)?.reference : nil)
        guard settings.modelDelivery != .baked else {
            if model != nil { throw Failure(.usage, "--model needs a model image volume, but deploy.modelDelivery is baked") }
            return nil
        }
        guard let text else {
            if settings.modelDelivery == .imageVolume {
                throw Failure(.usage, "deploy.modelDelivery is image-volume but there is no model image; pass --model REF or build with model.image")
            }
            return nil
        }
        if settings.modelDelivery == .auto {
            var version: (major: Int, minor: Int)?
            do {
                version = try Kubectl(path: kubectl, kubeconfig: kubeconfig, context: context).serverVersion()
            } catch {
                // Rendering without a cluster: write the volume, which is what a 1.35 cluster gets.
                guard dryRun || output != nil else { throw error }
                Warnings.emit("could not ask the cluster for its version (\(error)); writing an image volume, which needs Kubernetes 1.35")
            }
            if let version, version.major == 1 && version.minor < 35 {
                throw Failure(.unavailable, "the cluster runs Kubernetes \(version.major).\(version.minor), and image volumes need 1.35; build with the model in the app image (deploy.modelDelivery: baked) or upgrade the cluster")
            }
        }
        let reference = try Reference(parsing: text)
        let puller = ImagePuller(store: store, session: try registrySettings.session(for: reference.registry), observer: nil)
        var pinned = reference
        pinned.digest = try puller.resolveDigest(reference)
        let source = RegistrySource(reference: pinned, puller: puller, role: "model image")
        let labels = try source.manifestAndConfig(platform: nil).image.config.config?.labels ?? [:]
        return ModelVolume(image: pinned, mountPath: try ModelLabel.mountPath(labels: labels, image: reference.description))
    }

    private func loadSettings() throws -> DeploySettings {
        var deploy = DeploySettings()
        let recipePath = recipeFile ?? (FileManager.default.fileExists(atPath: "gantry.yaml") ? "gantry.yaml" : nil)
        if let recipePath {
            for setting in try Recipe.load(path: recipePath).deploy {
                try deploy.set(setting.key, setting.value, source: setting.location)
            }
        }
        if let name { try deploy.set("name", name, source: "--name") }
        if let namespace { try deploy.set("namespace", namespace, source: "--namespace") }
        if let replicas { try deploy.set("replicas", String(replicas), source: "--replicas") }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw Failure(.usage, "--set '\(setting)' is not key=value")
            }
            try deploy.set(String(setting[..<equals]), String(setting[setting.index(after: equals)...]), source: "--set")
        }
        guard timeout > 0 else { throw Failure(.usage, "--timeout must be a positive number of seconds") }
        return deploy
    }

    private func imageReference(store: ContentStore) throws -> Reference {
        if let image { return try Reference(parsing: image) }
        guard let last = LastPush.load(from: store) else {
            throw Failure(.missingInput, "nothing has been pushed from the store \(store.root) yet; pass an image reference or run 'gantry push' first")
        }
        return try Reference(parsing: last.reference)
    }

    private func imageConfig(_ reference: Reference, platform: Platform?, store: ContentStore, puller: ImagePuller) throws -> ImageConfig {
        if let digest = reference.digest, store.contains(digest),
           let manifest = try? CanonicalJSON.decode(Manifest.self, from: try store.read(digest), source: "manifest"),
           store.contains(manifest.config.digest) {
            return try CanonicalJSON.decode(ImageConfig.self, from: try store.read(manifest.config.digest), source: "config")
        }
        // Ports and user come from the image: the platform asked for, else an index's first Linux image.
        let source = RegistrySource(reference: reference, puller: puller, role: "image")
        return try source.manifestAndConfig(platform: platform).image.config
    }

    private func write(_ documents: [(String, String)], to directory: String) throws {
        if PathName.isDirectory(directory) == nil {
            try OutputPath.checkParentExists(of: directory, what: "--output")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        }
        for (file, text) in documents { try AtomicFile.write(Array(text.utf8), to: "\(directory)/\(file)") }
        StandardError.write("wrote \(documents.map(\.0).joined(separator: ", ")) to \(directory)\n")
    }

    /// `myreg.azurecr.io/team/flask_app` → `flask-app`.
    static func defaultName(for reference: Reference) -> String {
        let last = reference.repository.split(separator: "/").last.map(String.init) ?? "app"
        let cleaned = String(last.lowercased().map { ($0.isLetter || $0.isNumber) ? $0 : "-" }).trimming(while: { $0 == "-" })
        return cleaned.isEmpty ? "app" : String(cleaned.prefix(63))
    }

    /// The first exposed port of the image, else 8080.
    static func port(of config: ImageConfig?) -> Int {
        let ports = (config?.config?.exposedPorts?.keys).map(Array.init) ?? []
        return ports.compactMap { Int($0.split(separator: "/")[0]) }.sorted().first ?? 8080
    }

    /// Numeric `uid[:gid]` from the image's USER, else 1000; never root (runAsNonRoot).
    static func user(of config: ImageConfig?, settings: DeploySettings) -> (Int, Int) {
        let parts = (config?.config?.user ?? "").split(separator: ":").map { Int($0) }
        let uid = settings.runAsUser ?? parts.first.flatMap { $0 }.flatMap { $0 > 0 ? $0 : nil } ?? 1000
        let gid = settings.runAsGroup ?? (parts.count > 1 ? parts[1] : nil) ?? uid
        return (uid, gid)
    }
}
