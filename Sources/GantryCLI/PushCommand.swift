import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import ImageBuild
import Images
import ContentStore
import Registry
import Diagnostics

/// `gantry push REF`: the last build (or `--image oci:DIR[:TAG]`) to a registry.
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image to a registry: the last build, or --image oci:DIR[:TAG].",
        discussion: "Prints the pushed reference (repository@digest) on standard output.")

    @Argument(help: "Destination, e.g. myreg.azurecr.io/team/app:1.0 or 127.0.0.1:5000/app:dev.")
    var reference: String

    @Option(help: "Image to push: oci:DIR[:TAG], or a name in the store (default: the last build).")
    var image: String?

    @Option(name: .customLong("tag"), help: "Also tag the pushed manifest with this tag. Repeatable.")
    var tags: [String] = []

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Print the result as JSON (reference, digest, tags, blobs).")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func run() throws {
        let destination = try Reference(parsing: reference)
        let userStore = try store.open()
        let (source, manifest) = try ImageSelector.resolve(image, store: userStore)
        // Base layers a build left in the registry are fetched only into gantry's own store, never into a user's layout.
        let result = try Self.push(manifest, from: source, to: destination, tags: tags, options: registry, quiet: quiet || json,
                                   backfill: source.root == userStore.root)
        // `gantry deploy` without a reference deploys this: recorded in the user's store even when pushed from oci:DIR.
        LastPush.save(result, in: userStore)
        try Self.report(result, json: json)
    }

    static func push(_ manifest: Descriptor, from store: ContentStore, to destination: Reference, tags: [String],
                     options: RegistryOptions, quiet: Bool, backfill: Bool) throws -> PushResult {
        for tag in tags where (try? Reference(parsing: "x:\(tag)")) == nil {
            throw Failure(.usage, "--tag '\(tag)' is not a valid tag: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
        }
        let settings = try options.settings(), observer: ProgressPrinter? = quiet ? nil : ProgressPrinter()
        let sink = RegistrySink(reference: destination, extraTags: tags, settings: settings, observer: observer,
                                backfill: backfill ? LayerBackfill(store: store, settings: settings, observer: observer) : nil)
        return try sink.push(manifest, from: store)
    }

    static func report(_ result: PushResult, json: Bool) throws {
        if json {
            print(String(decoding: try CanonicalJSON.encode(result), as: UTF8.self))
        } else {
            print(result.reference)
        }
    }
}

/// Finds the image a command means: `oci:DIR[:TAG]`, a name in the store, or the last build.
enum ImageSelector {
    static func resolve(_ text: String?, store: ContentStore) throws -> (ContentStore, Descriptor) {
        guard let text else {
            guard let last = try store.index.find(Builder.lastBuildTag) else {
                throw Failure(.missingInput, "the store \(store.root) has no build yet; run 'gantry build' first or pass --image oci:DIR[:TAG]")
            }
            return (store, last)
        }
        if text.hasPrefix("oci:") {
            guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: text, role: "--image") else {
                throw Failure(.usage, "--image '\(text)' must be oci:DIR[:TAG]")
            }
            guard FileManager.default.fileExists(atPath: directory + "/index.json") else {
                throw Failure(.missingInput, "--image \(text): \(directory) is not an OCI image layout (no index.json)")
            }
            let layout = try ContentStore(readingLayout: directory, stateIn: store)
            let manifests = try layout.index.read().manifests
            return (layout, try LayoutSource.byTag(manifests, tag: tag, location: "--image \(text)"))
        }
        guard let named = try store.index.find(text) else {
            throw Failure(.missingInput, "no image named '\(text)' in the store \(store.root); use a --tag given to 'gantry build', or oci:DIR[:TAG]")
        }
        return (store, named)
    }
}
