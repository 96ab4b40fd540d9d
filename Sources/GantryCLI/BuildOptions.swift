import FoundationEssentials
import ArgumentParser
import OCI
import ByteStreams
import Images
import ImageBuild
import Layering
import Fetch
import Recipes
import Diagnostics
import SystemSupport

/// The flags that say what `gantry build` builds, and their mapping onto a
/// `BuildRequest` over the recipe's (flags win).
struct BuildOptions: ParsableArguments {
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

    @Option(help: "requirements.txt to install into a Python dependencies layer.")
    var requirements: String?

    @Option(help: "The base image's Python version for the dependencies layer (default 3.11).")
    var pythonVersion: String?

    @Option(help: "Compression threads (default: the number of cores). The bytes do not depend on it.")
    var threads: Int?

    @Flag(help: "Rebuild every layer even when its inputs are unchanged.")
    var noCache = false

    @Option(name: .customLong("cache-repo"),
            help: "A registry repository for a layer cache shared by build agents (REGISTRY/REPOSITORY): unchanged layers are taken from it instead of built, downloaded or uploaded; with --push, new layers are recorded in it.")
    var cacheRepo: String?

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
        let modelFlags: [(flag: String, value: String?)] = [("--model", model), ("--model-sha256", modelSha256),
                                                            ("--model-destination", modelDestination), ("--model-image", modelImage)]
        if request.models.count > 1, let given = modelFlags.first(where: { $0.value != nil }) {
            throw Failure(.usage, "\(given.flag) acts on one model, and the recipe lists \(request.models.count) ('models:'); change the entry in gantry.yaml instead")
        }
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

    /// `--output modelpack:oci:DIR[:TAG]`: the layouts the model is exported to as a
    /// ModelPack artifact, checked before the build.
    func modelPackOutputs(for request: BuildRequest) throws -> [(directory: String, tag: String?)] {
        try outputs.filter { $0.hasPrefix("modelpack:") }.map { text in
            guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: String(text.dropFirst("modelpack:".count)), role: "--output") else {
                throw Failure(.usage, "--output \(text): a ModelPack export goes to an OCI layout, modelpack:oci:DIR[:TAG]")
            }
            guard request.models.count <= 1 else {
                throw Failure(.usage, "--output \(text): a ModelPack artifact holds one model, and the recipe lists \(request.models.count) ('models:'); export each with 'gantry model push' or a set under one prefix")
            }
            guard request.model != nil else { throw Failure(.usage, "--output \(text) needs a model (--model or 'model:' in gantry.yaml)") }
            try LayoutSink(directory: directory, tag: tag).checkWritable()
            return (directory, tag)
        }
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
