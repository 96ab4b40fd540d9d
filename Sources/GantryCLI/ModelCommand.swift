import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import Images
import ImageBuild
import ContentStore
import ByteStreams
import Fetch
import Diagnostics

/// `gantry model fetch SOURCE`: the model into the store (and optionally a file).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Work with model files kept in blob storage.",
        subcommands: [FetchModelCommand.self])
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

    @Option(help: "Also copy the model to this file.")
    var output: String?

    @OptionGroup var store: StoreOptions

    func run() throws {
        let modelSource = try ModelSource(parsing: source)
        let pin = try sha256.map(ModelSettings.parsePin)
        if let output { try OutputPath.checkParentExists(of: output, what: "--output") }
        let store = try self.store.open()
        let started = Date()
        let model = try ModelFetcher(store: store).fetch(modelSource, pin: pin)
        if let output {
            try AtomicFile.write(to: output) { sink in try FileReader.forEachChunk(of: model.path) { try sink.write($0) } }
        }
        let how = model.reused ? "unchanged, from the store" : cFormat("downloaded in %.1fs", Date().timeIntervalSince(started))
        StandardError.write("model  \(model.source)  \(ByteCount.format(model.size))  \(how)\n")
        print(model.digest)
    }
}
