import FoundationEssentials
import ArgumentParser
import OCI
import Signing
import Diagnostics

/// `gantry verify REF --key PUB`: the image's signatures checked as cosign checks them.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an image's cosign signatures with a public key (exit 1 when none verifies).")

    @Argument(help: "The image, e.g. myreg.azurecr.io/team/app:1.0")
    var reference: String

    @Option(help: "Public key (PEM), e.g. the .pub of 'gantry key generate'.")
    var key: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let image = try Reference(parsing: reference)
        let publicKey = try VerificationKey(path: key)
        let signatures = CosignSignatures(store: try store.open(), settings: try registry.settings())
        var failures: [String] = []
        for digest in try signatures.subjects(of: image) {
            do {
                let (valid, total) = try signatures.verify(digest, in: image, key: publicKey)
                if valid > 0 {
                    print("verified \(image.name)@\(digest): \(valid) of \(total) signature\(total == 1 ? "" : "s") by \(key)")
                } else {
                    failures.append("\(image.name)@\(digest): none of its \(total) signature\(total == 1 ? "" : "s") verifies with \(key)")
                }
            } catch let failure as Failure where failure.kind == .checksFailed {
                failures.append(failure.message)
            }
        }
        guard failures.isEmpty else {
            throw Failure(.checksFailed, failures.joined(separator: "; "))
        }
    }
}
