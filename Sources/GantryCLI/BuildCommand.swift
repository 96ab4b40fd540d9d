import FoundationEssentials
import Glibc
import ByteStreams
import ArgumentParser
import OCI
import Images
import ImageBuild
import ContentStore
import Layering
import Fetch
import Signing
import Registry
import ImageTest
import Recipes
import Diagnostics

/// `gantry build`: recipe + flags → image in the store, and any `--output`s.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an OCI image from gantry.yaml and flags (flags win).",
        discussion: """
        Prints one line per layer on standard error and the manifest digest on standard output.
        SOURCE_DATE_EPOCH sets every file's mtime and the image's 'created' time (default 0).
        """)

    @Option(name: [.customShort("f"), .customLong("file")], help: "Recipe file (default: ./gantry.yaml when it exists).")
    var recipeFile: String?

    @Option(help: "Base image: scratch, oci:DIR[:TAG], oci-archive:FILE or rootfs:FILE.tar.")
    var base: String?

    @Option(help: "Target platform os/arch[/variant] (default: the base's, else this machine's); several, comma-separated (linux/amd64,linux/arm64), build one image each under an OCI index.")
    var platform: String?

    @Option(name: .customLong("layer"), help: "SOURCE:/destination; repeat for more layers. Replaces the recipe's layers.")
    var layers: [String] = []

    @Option(help: "Entrypoint as a JSON array, or a string run by /bin/sh -c.")
    var entrypoint: String?

    @Option(help: "Cmd as a JSON array, or a string run by /bin/sh -c.")
    var cmd: String?

    @Option(name: .customLong("env"), help: "NAME=value; repeatable; merged by name over the base's and the recipe's.")
    var environment: [String] = []

    @Option(help: "Working directory (absolute).")
    var workdir: String?

    @Option(help: "User to run as: name, uid or uid:gid.")
    var user: String?

    @Option(name: .customLong("port"), help: "Port to expose: 8080 or 8080/tcp; repeatable.")
    var ports: [String] = []

    @Option(name: .customLong("volume"), help: "A path to declare as a volume; repeatable.")
    var volumes: [String] = []

    @Option(name: .customLong("label"), help: "KEY=value; repeatable; wins over the recipe's.")
    var labels: [String] = []

    @Option(help: "Signal that stops the container, e.g. SIGTERM.")
    var stopSignal: String?

    @Option(help: "Layer compression: auto (default), gzip, gzip:0-9, auto:1-9 or none.")
    var compression: String?

    @Option(help: "Name for the image in the store's index.json.")
    var tag: String?

    @Option(name: .customLong("output"), help: "Also write oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE[:REPO:TAG]; repeatable.")
    var outputs: [String] = []

    @Option(help: "With several --platform values: the platform written to a docker-archive output (it holds one image).")
    var archivePlatform: String?

    @Option(help: "Write the manifest digest to this file (for CI).")
    var digestFile: String?

    @Option(help: "Model to put in its own layer: https://…, az://ACCOUNT/CONTAINER/BLOB, s3://BUCKET/KEY or a path.")
    var model: String?

    @Option(help: "Expected sha256 of the model (hex or sha256:hex).")
    var modelSha256: String?

    @Option(help: "Path of the model in the image (default /models/<file name>).")
    var modelDestination: String?

    @Option(help: "Build the model into an image of its own, REPOSITORY[:TAG] (without a registry: --push's), which the app image does not contain; gantry deploy mounts it as an image volume.")
    var modelImage: String?

    @Option(name: .customLong("model-ref-file"), help: "With --push and a model image: write its repository@digest to this file.")
    var modelReferenceFile: String?

    @Option(help: "requirements.txt to install into a Python dependencies layer.")
    var requirements: String?

    @Option(help: "The base image's Python version for the dependencies layer (default 3.11).")
    var pythonVersion: String?

    @OptionGroup var store: StoreOptions

    @Option(help: "Compression threads (default: the number of cores). The bytes do not depend on it.")
    var threads: Int?

    @Flag(help: "Rebuild every layer even when its inputs are unchanged.")
    var noCache = false

    @Flag(name: .shortAndLong, help: "Print only the digest.")
    var quiet = false

    @Flag(help: "Print the result as JSON on standard output: digest, platforms, pushed reference, and the model image's digest and reference.")
    var json = false

    @Flag(name: .customLong("test"), help: "After building, run the recipe's test: checks with runc (as 'gantry test' does); push only when they pass.")
    var runTests = false

    @Option(help: "With --test: write the results as JUnit XML to this file.")
    var junit: String?

    @Option(help: "After building, push the image to this registry reference.")
    var push: String?

    @Option(name: .customLong("push-tag"), help: "With --push: also tag the manifest with this tag. Repeatable.")
    var pushTags: [String] = []

    @Option(help: "With --push: sign the pushed image (and each platform's manifest) with this private key, as 'gantry sign' does.")
    var sign: String?

    @Flag(help: "With --push or --output oci:DIR: attach an SBOM (base OS packages, Python packages, the model, every layer) to each image manifest as an OCI 1.1 referrer.")
    var sbom = false

    @Option(help: "SBOM format: spdx (SPDX 2.3 JSON, default) or cyclonedx (CycloneDX 1.6 JSON).")
    var sbomFormat: SBOMFormat = .spdx

    @Flag(help: "With --push or --output oci:DIR: attach SLSA v1 provenance (an in-toto statement in a DSSE envelope, signed with --sign's key when given).")
    var provenance = false

    @Option(name: .customLong("digest-ref-file"), help: "With --push: write repository@digest to this file (for deploy steps).")
    var digestReferenceFile: String?

    @Option(name: .customLong("cache-repo"),
            help: "A registry repository for a layer cache shared by build agents (REGISTRY/REPOSITORY): unchanged layers are taken from it instead of built, downloaded or uploaded; with --push, new layers are recorded in it.")
    var cacheRepo: String?

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        var request = try makeRequest()
        // Checked before building: a bad destination or test plan should not cost a build.
        let destination = try push.map(Reference.init(parsing:))
        if junit != nil && !runTests { throw Failure(.usage, "--junit needs --test") }
        if sign != nil && destination == nil { throw Failure(.usage, "--sign needs --push (signatures are stored in the registry)") }
        for tag in pushTags { _ = try InputRules.tag(tag, what: "--push-tag") }
        if let destination, let text = request.model?.image {
            // One tag names one image: the app pushed after the model would silently replace it.
            let model = try Self.modelReference(text, besides: destination)
            let appTags = [destination.tag ?? "latest"] + pushTags
            if model.registry == destination.registry, model.repository == destination.repository, let tag = model.tag, appTags.contains(tag) {
                throw Failure(.usage, "the model image \(model) and the app image (--push \(destination)\(pushTags.isEmpty ? "" : ", --push-tag")) would both be tagged \(model.repository):\(tag); give the model image its own repository or tag (e.g. \(model.repository)-model:\(tag))")
            }
        }
        let modelPackOutputs = try outputs.filter { $0.hasPrefix("modelpack:") }.map { text -> (String, String?) in
            guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: String(text.dropFirst("modelpack:".count)), role: "--output") else {
                throw Failure(.usage, "--output \(text): a ModelPack export goes to an OCI layout, modelpack:oci:DIR[:TAG]")
            }
            guard request.model != nil else { throw Failure(.usage, "--output \(text) needs a model (--model or 'model:' in gantry.yaml)") }
            try LayoutSink(directory: directory, tag: tag).checkWritable()
            return (directory, tag)
        }
        let layoutOutputs = outputs.filter { $0.hasPrefix("oci:") }
        if (sbom || provenance) && destination == nil && layoutOutputs.isEmpty {
            throw Failure(.usage, "--\(sbom ? "sbom" : "provenance") needs --push or an --output oci:DIR (it is attached to the image as an OCI referrer)")
        }
        // Read (and decrypted) before building: a wrong key or passphrase should not cost a build.
        let signingKey = try sign.map { try SigningKey(path: $0, environment: ProcessInfo.processInfo.environment) }
        let testPlan = try runTests ? TestCommand.plan(recipeFile: recipePath, port: nil, environment: [], ready: nil,
                                                       readyTimeout: nil, gets: []) : nil
        request.registry = try registry.settings()
        request.pushTarget = destination
        request.transferObserver = quiet ? nil : ProgressPrinter()
        let store = try self.store.open()
        var builder = Builder(store: store)
        builder.modelFetched = { model in
            let how = model.fromLayerCache ? "(unchanged; its layer is in the registry cache, not downloaded)"
                : model.reused ? "(unchanged)" : model.localStamp != nil ? "(hashed)" : "(downloaded)"
            if !quiet { StandardError.write("model  \(model.source) \(model.digest) \(how)\n") }
        }
        let result = try builder.build(request) { line in
            if !quiet { StandardError.write(BuildOutput.line(for: line)) }
        }
        if !quiet {
            StandardError.write(BuildOutput.summary(result, outputs: request.outputs))
        }
        if let testPlan {
            try runTests(testPlan, of: result, model: request.model, store: store, pushing: destination != nil)
        }
        for (directory, tag) in modelPackOutputs {
            guard let model = result.model, let settings = request.model else { continue }
            let created = result.images.first?.config.created ?? "1970-01-01T00:00:00Z"
            let artifact = try ModelPackExport.write(model, model: settings, created: created, store: store, directory: directory, tag: tag)
            if !quiet { StandardError.write("model  ModelPack artifact \(artifact.digest.short) written to oci:\(directory):\(tag ?? "latest")\n") }
        }
        // Made once, for the registry and for oci: outputs alike.
        let attachments = try AttestationPublisher.make(result, request: request, repository: destination?.name, store: store,
                                                        sbom: sbom ? sbomFormat : nil, provenance: provenance, key: signingKey,
                                                        recipePath: recipePath)
        try AttestationPublisher.write(attachments, to: request.outputs, store: store, quiet: quiet)
        var pushedApp: PushResult?
        var pushedModel: PushResult?
        if let destination {
            // The model image first: an app image that is pushed is never missing its model.
            if let modelImage = result.modelImage, let text = request.model?.image {
                let modelDestination = try Self.modelReference(text, besides: destination)
                let puller = ImagePuller(store: store, session: try request.registry.session(for: modelDestination.registry), observer: nil)
                if try puller.currentDigest(modelDestination) == modelImage.root.digest {
                    // Unchanged: the tag already names this model image; nothing is sent.
                    pushedModel = PushResult(reference: "\(modelDestination.name)@\(modelImage.root.digest)", digest: modelImage.root.digest,
                                             tags: [modelDestination.tag ?? "latest"], blobs: [])
                    if !quiet { StandardError.write("model image unchanged: \(pushedModel!.reference) (not pushed again)\n") }
                } else {
                    pushedModel = try PushCommand.push(modelImage.root, from: store, to: modelDestination, tags: [], options: registry,
                                                       quiet: quiet, backfill: false)
                    if !quiet { StandardError.write("pushed model \(pushedModel!.reference)\n") }
                }
                if let modelReferenceFile { try AtomicFile.write(Array("\(pushedModel!.reference)\n".utf8), to: modelReferenceFile) }
            }
            LastPush.saveModel(pushedModel, in: store)
            let pushed = try PushCommand.push(result.root, from: store, to: destination,
                                              tags: pushTags, options: registry, quiet: quiet, backfill: true)
            LastPush.save(pushed, in: store)
            pushedApp = pushed
            if !quiet { StandardError.write("pushed \(pushed.reference)\n") }
            if let signingKey {
                for signed in try SignCommand.sign(try Reference(parsing: pushed.reference), key: signingKey, store: store,
                                                   settings: request.registry) where !quiet {
                    StandardError.write("signed \(signed.digest.short) → \(signed.signatureReference)\n")
                }
            }
            try AttestationPublisher.publish(attachments, to: destination, store: store, settings: request.registry, quiet: quiet)
            if let digestReferenceFile { try AtomicFile.write(Array("\(pushed.reference)\n".utf8), to: digestReferenceFile) }
            if let cacheRepository = request.cacheRepository, !result.cacheEntries.isEmpty {
                let cache = RegistryLayerCache(repository: cacheRepository, settings: request.registry, store: store)
                cache.saveAll(result.cacheEntries, pushedTo: destination).forEach(Warnings.emit)
            }
        }
        if json {
            print(String(decoding: try BuildOutput.json(result, pushed: pushedApp, pushedModel: pushedModel), as: UTF8.self))
        } else {
            print(result.root.digest)
        }
    }

    /// `--test`: the checks against the image for this machine's platform; a
    /// multi-platform build's other images cannot run here without emulation, and
    /// the results say so.
    private func runTests(_ plan: TestPlan, of result: BuildResult, model: ModelSettings?, store: ContentStore, pushing: Bool) throws {
        guard let image = result.images.first(where: { $0.config.platform.satisfies(Platform.host) }) else {
            let built = result.images.map { $0.config.platform.description }.joined(separator: ", ")
            throw Failure(.unavailable, "--test runs images natively with runc, and this build has no image for this machine (\(Platform.host)); it built \(built): drop --test, or add \(Platform.host) to the platforms")
        }
        for other in result.images where other.manifestDescriptor != image.manifestDescriptor {
            StandardError.write("test   \(other.config.platform): skipped: runc runs images natively and this machine is \(Platform.host) (no emulation)\n")
        }
        let source = StoreSource(store: store, root: image.manifestDescriptor, description: "the build")
        let complete = try TestCommand.completeImage(source, platform: Platform.host, userStore: store, registry: registry)
        // A model image is mounted where the cluster mounts it: the app is tested as deployed.
        var volumes: [ImageVolume] = []
        if let modelImage = result.modelImage, let model,
           let modelManifest = modelImage.manifests.first(where: { $0.config.platform.satisfies(Platform.host) }) {
            volumes.append(ImageVolume(layers: modelManifest.manifest.layers, mountPath: model.mountPath,
                                       labels: modelManifest.config.config?.labels ?? [:]))
        }
        let label = result.isIndex ? "the build's \(image.config.platform) image (\(image.manifestDescriptor.digest.short))"
            : "the build (\(image.manifestDescriptor.digest.short))"
        do {
            try TestCommand.test(complete, store: store, cache: store, description: label, plan: plan, junit: junit, keep: false,
                                 resultsOnStandardError: true, volumes: volumes)
        } catch let failure as Failure where failure.kind == .checksFailed && pushing {
            throw Failure(.checksFailed, failure.message + "; not pushed")
        }
    }

    /// The model image's reference: as written when it names a registry, else in the
    /// registry the app goes to (`models/classifier:1` next to `myreg.azurecr.io/team/app`).
    static func modelReference(_ text: String, besides app: Reference) throws -> Reference {
        let first = text.split(separator: "/").first.map(String.init) ?? ""
        let namesRegistry = text.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        var reference = try Reference(parsing: namesRegistry ? text : "\(app.registry)/\(text)")
        if reference.tag == nil { reference.tag = "latest" }
        return reference
    }

    /// The recipe this build reads: --file, else ./gantry.yaml when it exists.
    var recipePath: String? {
        recipeFile ?? (FileManager.default.fileExists(atPath: "gantry.yaml") ? "gantry.yaml" : nil)
    }

    func makeRequest() throws -> BuildRequest {
        var request = BuildRequest()
        if let recipePath {
            try request.apply(try Recipe.load(path: recipePath))
            request.contextDirectory = PathName.parent(of: recipePath)
        } else if layers.isEmpty && base == nil {
            throw Failure(.usage, "no gantry.yaml in this directory; pass --file RECIPE, or --base/--layer flags, or run 'gantry init'")
        } else {
            request.contextDirectory = "."
        }
        if let cacheRepo { request.cacheRepository = try InputRules.cacheRepository(cacheRepo) }
        if let base { request.base = try ImageLocation(parsing: base, role: "--base", allowRegistry: true) }
        if let platform {
            let texts = platform.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
            request.platforms = try InputRules.platforms(texts).map(Platform.init(parsing:))
        }
        if !layers.isEmpty { request.layers = try layers.map(LayerSpec.init(flag:)) }
        if let entrypoint { request.settings.entrypoint = try Self.command(entrypoint, flag: "--entrypoint") }
        if let cmd { request.settings.cmd = try Self.command(cmd, flag: "--cmd") }
        request.settings.env += try environment.map { try EnvironmentVariable(parsing: $0, source: "--env") }
        if let workdir { request.settings.workdir = workdir }
        if let user { request.settings.user = user }
        request.settings.ports += ports
        request.settings.volumes += volumes
        for label in labels {
            let variable = try EnvironmentVariable(parsing: label, source: "--label")
            request.settings.labels[variable.name] = variable.value
        }
        if let stopSignal { request.settings.stopSignal = stopSignal }
        if let compression { request.compression = try Compression(parsing: compression) }
        if let tag { request.tag = tag }
        if let model {
            // --model replaces where the model comes from (and the recipe's pin, which was
            // for the recipe's source), not where the app reads it: the recipe's destination
            // stays. The CI templates' images put the model where MODEL_PATH did not look.
            let destination = request.model?.destination, license = request.model?.license, image = request.model?.image
            request.model = ModelSettings(source: try ModelSource(parsing: model))
            if let destination { request.model?.destination = destination }
            request.model?.license = license
            request.model?.image = image
        }
        if let modelSha256 {
            guard request.model != nil else { throw Failure(.usage, "--model-sha256 needs a model (--model or 'model:' in gantry.yaml)") }
            request.model?.sha256 = try ModelSettings.parsePin(modelSha256)
        }
        if let modelDestination { request.model?.destination = modelDestination }
        if let modelImage {
            guard request.model != nil else { throw Failure(.usage, "--model-image needs a model (--model or 'model:' in gantry.yaml)") }
            request.model?.image = try InputRules.modelImage(modelImage)
        }
        if let requirements { request.python = PythonSettings(requirements: requirements) }
        if let pythonVersion {
            guard request.python != nil else { throw Failure(.usage, "--python-version needs --requirements or 'python:' in gantry.yaml") }
            request.python?.version = pythonVersion
        }
        // modelpack:oci:DIR[:TAG] exports the model as a ModelPack artifact; the rest are image outputs.
        request.outputs = try outputs.filter { !$0.hasPrefix("modelpack:") }.map { try ImageLocation(parsing: $0, role: "--output") }
        request.digestFile = digestFile
        request.archivePlatform = try archivePlatform.map(Platform.init(parsing:))
        request.threads = try threads.map(InputRules.threads) ?? min(ProcessInfo.processInfo.activeProcessorCount, InputRules.threadRange.upperBound)
        request.useCache = !noCache
        request.sourceDateEpoch = try BuildRequest.sourceDateEpoch(from: ProcessInfo.processInfo.environment)
        return request
    }

    /// A JSON array of strings (exec form) or a plain string (shell form).
    static func command(_ text: String, flag: String) throws -> [String] {
        guard text.trimmingWhitespace().hasPrefix("[") else { return ["/bin/sh", "-c", text] }
        guard let words = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw Failure(.usage, "\(flag) '\(text)' is not a JSON array of strings, e.g. '[\"python3\", \"app.py\"]'")
        }
        return words
    }
}
