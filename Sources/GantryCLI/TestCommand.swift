import FoundationEssentials
import Glibc
import ArgumentParser
import ByteStreams
import OCI
import Images
import ImageBuild
import ImageTest
import ContentStore
import Registry
import Recipes
import Diagnostics

/// `gantry test [IMAGE]`: runs the image with runc and checks it over HTTP and
/// with commands inside it, as the recipe's `test:` section and flags say.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run an image with runc (no daemon; rootless when not root) and check it over HTTP before pushing it.",
        discussion: """
        Checks come from the recipe's 'test:' section (gantry.yaml, or --file) and the flags. \
        Prints one line per check; exits 1 when a check fails, with the container's last output lines.
        """)

    @Argument(help: "Image: the last build (default), a name in the store, oci:DIR[:TAG], oci-archive:FILE, or a registry reference.")
    var image: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "Recipe whose 'test:' section to run (default: ./gantry.yaml when it exists).")
    var recipeFile: String?

    @Option(help: "The app's port in the container (default: test.port, else the image's first exposed TCP port).")
    var port: Int?

    @Option(name: .customLong("env"), help: "NAME=value set in the container over the image's; repeatable.")
    var environment: [String] = []

    @Option(help: "Ready probe: '/path' or 'METHOD /path' polled until it answers 2xx/3xx, or 'tcp' (the port accepts connections). Default: test.ready, else GET /.")
    var ready: String?

    @Option(help: "Seconds to wait for the app to answer (default: test.ready.timeout, else 60).")
    var readyTimeout: Int?

    @Option(name: .customLong("get"), help: "Also check that GET PATH answers 200; repeatable.")
    var gets: [String] = []

    @Option(help: "Platform to test from a multi-platform image (default: this machine's).")
    var platform: String?

    @Option(help: "Write the results as JUnit XML to this file (Azure Pipelines PublishTestResults, GitHub test reporters).")
    var junit: String?

    @Flag(help: "Keep the bundle (rootfs, config.json, container.log) and print how to enter it.")
    var keep = false

    @Option(name: .customLong("model-image"),
            help: "A model image (model.image) to mount read-only at its model's directory, as Kubernetes image volumes do; default for the last build: the model image it made.")
    var modelImage: String?

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let plan = try ImageTestRun.plan(recipeFile: recipeFile, port: port, environment: environment, ready: ready,
                                 readyTimeout: readyTimeout, gets: gets)
        let wanted = try platform.map(Platform.init(parsing:)) ?? Platform.host
        let userStore = try store.open()
        let (source, description) = try ImageTestRun.source(image, store: userStore, registry: registry)
        let manifest = try ImageTestRun.completeImage(source, platform: wanted, userStore: userStore, registry: registry)
        let volumes = try modelVolume(platform: wanted, userStore: userStore).map { [$0] } ?? []
        try ImageTestRun.test(manifest, store: source.store, cache: userStore, description: description, plan: plan, junit: junit, keep: keep,
                      volumes: volumes)
    }

    /// `--model-image`, else (testing the last build) the model image that build made.
    private func modelVolume(platform: Platform, userStore: ContentStore) throws -> ImageVolume? {
        var text = modelImage
        if text == nil, image == nil, try userStore.index.find(Builder.lastModelTag) != nil { text = Builder.lastModelTag }
        guard let text else { return nil }
        let (source, _) = try ImageTestRun.source(text, store: userStore, registry: registry)
        let model = try ImageTestRun.completeImage(source, platform: platform, userStore: userStore, registry: registry)
        let labels = model.config.config?.labels
        return ImageVolume(layers: model.manifest.layers, mountPath: try ModelLabel.mountPath(labels: labels, image: text),
                           labels: labels ?? [:], store: source.store)
    }
}
