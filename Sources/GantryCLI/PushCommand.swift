import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import ImageBuild
import Images
import ContentStore
import Registry
import Publishing
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
        let publisher = try Publisher.forCommand(store: userStore, registry: registry, quiet: quiet || json)
        // Base layers a build left in the registry are fetched only into gantry's own store, never into a user's layout.
        let result = try publisher.push(manifest, from: source, to: destination, tags: tags, backfill: source.root == userStore.root)
        // `gantry deploy` without a reference deploys this: recorded in the user's store even when pushed from oci:DIR.
        LastPush.save(result, in: userStore)
        try Self.report(result, json: json)
    }

    static func report(_ result: PushResult, json: Bool) throws {
        if json {
            print(String(decoding: try CanonicalJSON.encode(result), as: UTF8.self))
        } else {
            print(result.reference)
        }
    }
}
