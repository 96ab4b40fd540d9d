import FoundationEssentials
import ArgumentParser
import Signing
import Diagnostics

/// `gantry key generate`: a signing key pair for `gantry sign` / `build --sign`.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage signing keys.",
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a new ECDSA P-256 key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub.",
            discussion: """
            With GANTRY_KEY_PASSWORD (or COSIGN_PASSWORD) set, the private key is encrypted with it (AES-256).
            cosign reads the public key as it is ('cosign verify --key PREFIX.pub').
            """)

        @Option(help: "Path prefix of the two files (default: gantry).")
        var output = "gantry"

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            let passphrase = SigningKey.passwordVariables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
            try KeyGeneration.generate(privateKey: output + ".key", publicKey: output + ".pub", passphrase: passphrase)
            StandardError.write("wrote \(output).key (private, \(passphrase == nil ? "not encrypted: set GANTRY_KEY_PASSWORD to encrypt it" : "encrypted")) and \(output).pub\n")
        }
    }
}
