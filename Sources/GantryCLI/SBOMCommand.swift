import FoundationEssentials
import ArgumentParser
import OCI
import Images
import Registry
import SupplyChain
import Publishing
import Diagnostics

/// `gantry sbom REF`: prints the SBOM attached to an image (by `build --sbom`).
struct SBOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbom",
        abstract: "Print the SBOM attached to an image in a registry (an OCI 1.1 referrer written by 'gantry build --sbom').")

    @Argument(help: "The image, e.g. myreg.azurecr.io/team/app:1.0")
    var reference: String

    @Option(help: "For a multi-platform image: whose SBOM (default: this machine's platform).")
    var platform: String?

    @Option(help: "spdx or cyclonedx (default: whichever is attached, SPDX first).")
    var format: SBOMFormat?

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let image = try Reference(parsing: reference)
        let store = try self.store.open()
        let settings = try registry.settings()
        let puller = ImagePuller(store: store, session: try settings.session(for: image.registry), observer: nil)
        let source = RegistrySource(reference: image, puller: puller, role: "image")
        let manifest = try source.manifestAndConfig(platform: try platform.map(Platform.init(parsing:)) ?? Platform.host).image.descriptor
        let referrers = Referrers(store: store, settings: settings)
        let formats = format.map { [$0] } ?? SBOMFormat.allCases
        for candidate in formats {
            if let artifact = try referrers.list(manifest.digest, in: image, artifactType: candidate.mediaType).first {
                let (_, bytes) = try referrers.content(of: artifact, in: image)
                print(String(decoding: bytes, as: UTF8.self))
                return
            }
        }
        throw Failure(.missingInput, "\(image.name)@\(manifest.digest) has no \(format?.label ?? "SBOM") attached; build it with 'gantry build --push … --sbom'")
    }
}
