import FoundationEssentials
import ArgumentParser
import Signing
import ByteStreams
import ContentStore
import Diagnostics

/// `gantry sign-blob FILE --key KEY`: a file's signature as `cosign sign-blob`
/// writes it (base64 ECDSA P-256 over SHA-256), e.g. for a release tarball.
struct SignBlobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-blob",
        abstract: "Sign a file as 'cosign sign-blob --key' does; 'cosign verify-blob' and 'gantry verify-blob' check it.",
        discussion: "An encrypted key's passphrase comes from GANTRY_KEY_PASSWORD (or COSIGN_PASSWORD).")

    @Argument(help: "The file to sign (read in chunks: any size).")
    var file: String

    @Option(help: "Private key (PEM), e.g. from 'gantry key generate'.")
    var key: String

    @Option(help: "Write the signature to this file (default: standard output).")
    var outputSignature: String?

    func run() throws {
        let signingKey = try SigningKey(path: key, environment: ProcessInfo.processInfo.environment)
        let signature = try BlobSignature.sign(file: file, with: signingKey)
        if let outputSignature {
            try AtomicFile.write(Array((signature + "\n").utf8), to: outputSignature)
            StandardError.write("wrote the signature of \(file) to \(outputSignature)\n")
        } else {
            print(signature)
        }
    }
}

/// `gantry verify-blob FILE --key PUB --signature SIG`: checks what sign-blob made.
struct VerifyBlobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-blob",
        abstract: "Check a file's signature as 'cosign verify-blob --key' does (exit 1 when it does not verify).")

    @Argument(help: "The signed file.")
    var file: String

    @Option(help: "Public key (PEM), e.g. the .pub of 'gantry key generate'.")
    var key: String

    @Option(help: "The signature file (base64, as sign-blob writes it).")
    var signature: String

    func run() throws {
        let publicKey = try VerificationKey(path: key)
        guard let text = try? FileReader.readSmallFile(signature, limit: 1 << 16) else {
            throw Failure(.missingInput, "signature \(signature) cannot be read; check --signature")
        }
        guard try BlobSignature.verify(file: file, signature: String(decoding: text, as: UTF8.self), with: publicKey) else {
            throw Failure(.checksFailed, "\(file): the signature \(signature) does not verify with \(key); the file or the signature changed, or another key made it")
        }
        print("verified \(file) with \(key)")
    }
}
