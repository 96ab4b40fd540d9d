import FoundationEssentials
import Glibc
import ByteStreams
import ArgumentParser
import OCI
import Images
import ContentStore
import Registry
import Diagnostics
import SystemSupport

/// `gantry inspect REF|oci:DIR[:TAG]`: a summary of manifest and config; `--raw` prints them.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Summarize an image's manifest and config (registry or oci:DIR[:TAG]).")

    @Argument(help: "Image: a registry reference, oci:DIR[:TAG], or nothing for the last build.")
    var image: String?

    @Flag(help: "Print the raw manifest and config JSON instead of a summary.")
    var raw = false

    @Option(help: "Platform to pick from a multi-platform image (default: this machine's).")
    var platform: String?

    @Flag(help: "Also list what is attached to the image in the registry: OCI 1.1 referrers (SBOMs, provenance) and cosign signatures.")
    var referrers = false

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        if referrers && (image == nil || image?.hasPrefix("oci:") == true) {
            throw Failure(.usage, "--referrers reads a registry: pass the image's registry reference")
        }
        let wanted = try platform.map(Platform.init(parsing:)) ?? Platform.host
        let store = try self.store.open()
        let source: any ManifestSource
        if let image, !image.hasPrefix("oci:") {
            let reference = try Reference(parsing: image)
            let puller = ImagePuller(store: store, session: try registry.settings().session(for: reference.registry), observer: nil)
            source = RegistrySource(reference: reference, puller: puller, role: "image")
        } else {
            let (layout, descriptor) = try ImageSelector.resolve(image, store: store)
            source = StoreSource(store: layout, root: descriptor, description: "image \(image ?? "of the last build")")
        }
        let inspected = try source.manifestAndConfig(platform: wanted)
        if raw {
            print(String(decoding: try source.store.read(inspected.image.descriptor.digest), as: UTF8.self))
            print(String(decoding: try source.store.read(inspected.image.manifest.config.digest), as: UTF8.self))
            return
        }
        let manifest = inspected.image.manifest, config = inspected.image.config, digest = inspected.image.descriptor.digest
        var lines = ["digest:     \(digest)", "media type: \(manifest.mediaType ?? "-")",
                     "platform:   \(config.platform)", "created:    \(config.created ?? "-")"]
        if !inspected.platforms.isEmpty {
            lines.insert("index:      \(inspected.root.digest)", at: 0)
            lines.append("platforms:  \(inspected.platforms.map(\.description).joined(separator: ", "))")
        }
        let container = config.config ?? ContainerConfig()
        if let entrypoint = container.entrypoint { lines.append("entrypoint: \(entrypoint)") }
        if let cmd = container.cmd { lines.append("cmd:        \(cmd)") }
        if let user = container.user { lines.append("user:       \(user)") }
        if let workdir = container.workingDir { lines.append("workdir:    \(workdir)") }
        if let ports = container.exposedPorts { lines.append("ports:      \(ports.keys.sorted().joined(separator: ", "))") }
        for variable in container.env ?? [] { lines.append("env:        \(variable)") }
        for (key, value) in (container.labels ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("label:      \(key)=\(value)") }
        for (key, value) in (manifest.annotations ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("annotation: \(key)=\(value)") }
        let total = manifest.layers.reduce(Int64(0)) { $0 + $1.size }
        lines.append("layers:     \(manifest.layers.count), \(ByteCount.format(total))")
        for layer in manifest.layers {
            lines.append("  \(layer.digest)  \(ByteCount.format(layer.size).padded(to: 10))  \(layer.mediaType)")
        }
        if referrers, let image {
            let reference = try Reference(parsing: image)
            lines += try AttachedArtifacts.lines(for: [inspected.root.digest] + (inspected.platforms.isEmpty ? [] : [digest]),
                                                 in: reference, store: store, settings: try registry.settings())
        }
        print(lines.joined(separator: "\n"))
    }
}
