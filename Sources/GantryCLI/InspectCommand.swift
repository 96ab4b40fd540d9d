import Foundation
import ArgumentParser
import OCI
import ImageBuild
import ContentStore
import HTTP
import Registry
import Diagnostics

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

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let wanted = try platform.map(Platform.init(parsing:)) ?? Platform.host
        let store = try self.store.open()
        let manifestBytes: [UInt8], configBytes: [UInt8], digest: Digest
        if let image, !image.hasPrefix("oci:") {
            let reference = try Reference(parsing: image)
            let settings = try registry.settings()
            let pulled = try ImagePuller(store: store, session: try settings.session(for: reference.registry), observer: nil)
                .pullManifestAndConfig(reference, platform: wanted)
            (manifestBytes, configBytes, digest) = (pulled.manifest, pulled.config, pulled.digest)
        } else {
            let (source, descriptor) = try ImageSelector.resolve(image, store: store)
            manifestBytes = try source.read(descriptor.digest)
            let manifest = try CanonicalJSON.decode(Manifest.self, from: manifestBytes, source: "manifest")
            configBytes = try source.read(manifest.config.digest)
            digest = descriptor.digest
        }
        if raw {
            print(String(decoding: manifestBytes, as: UTF8.self))
            print(String(decoding: configBytes, as: UTF8.self))
            return
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: manifestBytes, source: "manifest")
        let config = try CanonicalJSON.decode(ImageConfig.self, from: configBytes, source: "config")
        var lines = ["digest:     \(digest)", "media type: \(manifest.mediaType ?? "-")",
                     "platform:   \(config.platform)", "created:    \(config.created ?? "-")"]
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
            lines.append("  \(layer.digest)  \(ByteCount.format(layer.size).padding(toLength: 10, withPad: " ", startingAt: 0))  \(layer.mediaType)")
        }
        print(lines.joined(separator: "\n"))
    }
}
