import FoundationEssentials
import ArgumentParser
import OCI
import Images
import ImageBuild
import ContentStore
import ImageTest
import Recipes
import Publishing
import Diagnostics

/// `gantry build`: recipe + flags → image in the store, and any `--output`s; with
/// `--test` its checks, with `--push` its publication (`Publisher`).
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an OCI image from gantry.yaml and flags (flags win).",
        discussion: """
        Prints one line per layer on standard error and the manifest digest on standard output.
        SOURCE_DATE_EPOCH sets every file's mtime and the image's 'created' time (default 0).
        """)

    @OptionGroup var image: BuildOptions

    @OptionGroup var publish: PublishOptions

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Print only the digest.")
    var quiet = false

    @Flag(help: "Print the result as JSON on standard output: digest, platforms, pushed reference, and the model image's digest and reference.")
    var json = false

    @Flag(name: .customLong("test"), help: "After building, run the recipe's test: checks with runc (as 'gantry test' does); push only when they pass.")
    var runTests = false

    @Option(help: "With --test: write the results as JUnit XML to this file.")
    var junit: String?

    @Flag(help: "Build exactly what gantry.lock beside the recipe names (base by digest, the locked wheels, .debs and model files); fail before any work when it does not match.")
    var locked = false

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        var request = try image.makeRequest()
        // Checked before building: a bad destination, key or test plan should not cost a build.
        if junit != nil && !runTests { throw Failure(.usage, "--junit needs --test") }
        let destination = try publish.destination(for: request)
        let modelPackOutputs = try image.modelPackOutputs(for: request)
        let signingKey = try publish.signingKey()
        let testPlan = try runTests ? ImageTestRun.plan(recipeFile: image.recipePath, port: nil, environment: [], ready: nil,
                                                        readyTimeout: nil, gets: []) : nil
        if locked {
            let path = LockCommand.path(besideRecipe: image.recipePath)
            guard let lock = try LockCommand.read(path) else {
                throw Failure(.missingInput, "\(path) does not exist; run 'gantry lock' and commit it (or build without --locked)")
            }
            request.lock = (lock, path)
        }
        request.registry = try registry.settings()
        request.pushTarget = destination
        if let destination, let text = request.model?.image {
            request.modelPushTarget = try PublishPlan.modelReference(text, besides: destination)
        }
        request.transferObserver = quiet ? nil : ProgressPrinter()
        let store = try self.store.open()
        let say: (String) -> Void = quiet ? { _ in } : { StandardError.write($0 + "\n") }

        var builder = Builder(store: store)
        if !quiet { builder.modelSetProgress = { source, progress in StandardError.write(progress.line(for: source) + "\n") } }
        builder.modelFetched = { model in
            let how = model.fromLayerCache ? "(unchanged; its layer is in the registry cache, not downloaded)"
                : model.reused ? "(unchanged)" : model.isLocal ? "(hashed)" : "(downloaded)"
            say("model  \(model.source) \(model.digest) \(how)")
        }
        let result = try builder.build(request) { line in
            if !quiet { StandardError.write(BuildOutput.line(for: line)) }
        }
        if !quiet { StandardError.write(BuildOutput.summary(result, outputs: request.outputs)) }
        if let testPlan {
            try runTests(testPlan, of: result, model: request.model, store: store, pushing: destination != nil)
        }
        for (directory, tag) in modelPackOutputs {
            guard let model = result.model, let settings = request.model else { continue }
            let created = result.images.first?.config.created ?? "1970-01-01T00:00:00Z"
            let artifact = try ModelPackExport.write(model, model: settings, created: created, store: store, directory: directory, tag: tag)
            say("model  ModelPack artifact \(artifact.digest.short) written to oci:\(directory):\(tag ?? "latest")")
        }
        // Made once, for the registry and for oci: outputs alike.
        let attachments = try Attestations.make(result, request: request, repository: destination?.name, store: store,
                                                sbom: publish.sbom ? publish.sbomFormat : nil, provenance: publish.provenance,
                                                key: signingKey, recipePath: image.recipePath, toolVersion: VersionText.version)
        try Attestations.write(attachments, to: request.outputs, store: store, say: say)

        var published: Published?
        if let destination {
            let plan = try publish.plan(result, request: request, to: destination, key: signingKey, attachments: attachments, store: store)
            let publisher = Publisher(store: store, settings: request.registry, observer: request.transferObserver, say: say)
            published = try publisher.publish(plan)
            if let model = published?.model, let file = publish.modelReferenceFile {
                try AtomicFile.write(Array("\(model.reference)\n".utf8), to: file)
            }
            if let app = published?.app, let file = publish.digestReferenceFile {
                try AtomicFile.write(Array("\(app.reference)\n".utf8), to: file)
            }
        }
        if json {
            print(String(decoding: try BuildOutput.json(result, pushed: published?.app, pushedModel: published?.model), as: UTF8.self))
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
        let complete = try ImageTestRun.completeImage(source, platform: Platform.host, userStore: store, registry: registry)
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
            try ImageTestRun.test(complete, store: store, cache: store, description: label, plan: plan, junit: junit, keep: false,
                                  resultsOnStandardError: true, volumes: volumes)
        } catch let failure as Failure where failure.kind == .checksFailed && pushing {
            throw Failure(.checksFailed, failure.message + "; not pushed")
        }
    }
}
