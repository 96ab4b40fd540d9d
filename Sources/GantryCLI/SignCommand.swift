import FoundationEssentials
import ArgumentParser
import OCI
import Signing
import Registry
import ContentStore
import Diagnostics

/// `gantry sign REF --key KEY`: cosign-compatible signatures for an image in a
/// registry (an index and each of its manifests).
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign an image in a registry as cosign does (tag sha256-<digest>.sig), so cosign, Kyverno and Ratify verify it.",
        discussion: "An encrypted key's passphrase comes from GANTRY_KEY_PASSWORD (or COSIGN_PASSWORD).")

    @Argument(help: "The image, e.g. myreg.azurecr.io/team/app:1.0 or …@sha256:…")
    var reference: String

    @Option(help: "Private key (PEM), e.g. from 'gantry key generate'.")
    var key: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let image = try Reference(parsing: reference)
        let signingKey = try SigningKey(path: key, environment: ProcessInfo.processInfo.environment)
        for signed in try Self.sign(image, key: signingKey, store: try store.open(), settings: try registry.settings()) {
            print("\(signed.added ? "signed" : "already signed") \(image.name)@\(signed.digest) → \(signed.signatureReference)")
        }
    }

    /// Signs what `image` names (index and manifests), each once.
    static func sign(_ image: Reference, key: SigningKey, store: ContentStore, settings: RegistrySettings) throws -> [CosignSignatures.Signed] {
        let signatures = CosignSignatures(store: store, settings: settings)
        return try signatures.subjects(of: image).map { try signatures.sign($0, in: image, key: key) }
    }
}
