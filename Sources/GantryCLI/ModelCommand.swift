import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import Images
import ImageBuild
import ContentStore
import ByteStreams
import Fetch
import Publishing
import Diagnostics
import SystemSupport

/// `gantry model fetch SOURCE`: the model into the store (and optionally a file).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Work with model files kept in blob storage.",
        subcommands: [FetchModelCommand.self, PushModelCommand.self])
}

/// `gantry model push SOURCE REF --format modelpack`: a model straight to a registry
/// as a CNCF ModelPack artifact (see `ModelPackExport`), without an app build.
struct PushModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a model (a file or a local directory of shards, or any source 'gantry model fetch' takes) to a registry as a ModelPack artifact.",
        discussion: "Prints the pushed repository@digest. KitOps and Docker Model Runner pull it; oras pulls its files.")

    enum Format: String, ExpressibleByArgument { case modelpack }

    @Argument(help: "Where the model is.")
    var source: String

    @Argument(help: "Destination, e.g. myreg.azurecr.io/models/classifier:1.")
    var reference: String

    @Option(help: "Artifact format (modelpack: the CNCF model-spec).")
    var format: Format = .modelpack

    @Option(help: "Expected sha256 (hex or sha256:hex).")
    var sha256: String?

    @Option(help: "The model's license (an SPDX id where there is one), recorded in the artifact's config.")
    var license: String?

    @OptionGroup var selection: ModelFileOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let destination = try Reference(parsing: reference)
        var settings = ModelSettings(source: try ModelSource(parsing: source))
        settings.sha256 = try sha256.map(ModelSettings.parsePin)
        settings.license = license
        let store = try self.store.open()
        var fetcher = ModelFetcher(store: store)
        try selection.apply(to: &fetcher, source: settings.source)
        let model = try fetcher.fetch(settings.source, pin: settings.sha256, inPlace: true)
        // Written into a layout on the store's file system, pushed, then removed.
        let layout = store.scratchPath(for: .archive)
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let created = rfc3339(secondsSince1970: try BuildRequest.sourceDateEpoch(from: ProcessInfo.processInfo.environment) ?? 0)
        let artifact = try ModelPackExport.write(model, model: settings, created: created, store: store, directory: layout, tag: nil)
        let publisher = try Publisher.forCommand(store: store, registry: registry, quiet: false)
        let pushed = try publisher.push(artifact, from: try ContentStore(readingLayout: layout, stateIn: store), to: destination, tags: [], backfill: false)
        print(pushed.reference)
    }
}

struct FetchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a model (https://, az://ACCOUNT/CONTAINER/BLOB, s3://BUCKET/KEY or a path) into the store.",
        discussion: """
        Prints the model's sha256 digest. Credentials come from the environment:
        Azure: AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, AZURE_STORAGE_TOKEN,
        or a managed identity; AZURE_STORAGE_BLOB_ENDPOINT overrides the endpoint.
        S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION; AWS_ENDPOINT_URL for S3-compatible stores.
        """)

    @Argument(help: "Where the model is.")
    var source: String

    @Option(help: "Expected sha256 (hex or sha256:hex); a different file is an error and is not kept.")
    var sha256: String?

    @Option(help: "Also copy the model to this file (a set of files: into this new directory).")
    var output: String?

    @OptionGroup var selection: ModelFileOptions
    @OptionGroup var store: StoreOptions

    func run() throws {
        let modelSource = try ModelSource(parsing: source)
        let pin = try sha256.map(ModelSettings.parsePin)
        if let output { try OutputPath.checkParentExists(of: output, what: "--output") }
        let store = try self.store.open()
        let started = Date()
        var fetcher = ModelFetcher(store: store)
        try selection.apply(to: &fetcher, source: modelSource)
        let model = try fetcher.fetch(modelSource, pin: pin)
        if let output {
            if let files = model.files {
                try ModelCopy.write(files, from: model.path, into: output)
            } else {
                try AtomicFile.write(to: output) { sink in try FileReader.forEachChunk(of: model.path) { try sink.write($0) } }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let how: String
        if let files = model.files, modelSource.isPrefix {
            how = "\(files.count) files, " + (model.reused ? "all unchanged, from the store" : cFormat("%d downloaded in %.1fs", model.downloadedFiles, seconds))
        } else {
            how = model.reused ? "unchanged, from the store" : cFormat("downloaded in %.1fs", seconds)
        }
        StandardError.write("model  \(model.source)  \(ByteCount.format(model.size))  \(how)\n")
        print(model.digest)
    }
}
