import FoundationEssentials
import ArgumentParser
import OCI
import Signing
import Registry
import Publishing
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
        let publisher = try Publisher.forCommand(store: try store.open(), registry: registry, quiet: true)
        for signed in try publisher.sign(image, key: signingKey) {
            print("\(signed.added ? "signed" : "already signed") \(image.name)@\(signed.digest) → \(signed.signatureReference)")
        }
    }
}
