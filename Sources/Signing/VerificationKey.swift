import FoundationEssentials
import CCrypto
import ByteStreams
import Diagnostics

/// A public key that checks signatures: ECDSA P-256 from a PEM file ("PUBLIC KEY",
/// as `gantry key generate` and `cosign generate-key-pair` write it).
public struct VerificationKey: Sendable {
    let key: OpenSSLKey
    public let path: String

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(.missingInput, "public key \(path) does not exist; check --key")
        }
        let pem = try FileReader.readSmallFile(path, limit: 1 << 20)
        guard let loaded = try OpenSSLMemory.read(pem, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) else {
            throw Failure(.invalidInput, "public key \(path) is not a PEM public key (\(OpenSSLKey.lastError())); pass the .pub file 'gantry key generate' wrote")
        }
        key = OpenSSLKey(loaded)
        self.path = path
        try key.requireP256("public key \(path)")
    }

    init(key: OpenSSLKey, path: String) {
        self.key = key
        self.path = path
    }

    /// Whether `signature` (ASN.1 DER ECDSA) is this key's over SHA-256 of `message`.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        (try? verify(signature: signature) { feed in try message.withUnsafeBytes(feed) }) ?? false
    }

    /// The same over bytes handed over in pieces by `feeding` (a file read in chunks);
    /// throws only what `feeding` throws (a read error), false for any other failure.
    func verify(signature: [UInt8], feeding: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        // A bad signature or a failed step leaves an error queued: cleared on every way out.
        defer { ERR_clear_error() }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key.pointer) == 1 else { return false }
        var updated = true
        try feeding { bytes in
            if updated { updated = EVP_DigestVerifyUpdate(context, bytes.baseAddress, bytes.count) == 1 }
        }
        guard updated else { return false }
        return signature.withUnsafeBufferPointer { EVP_DigestVerifyFinal(context, $0.baseAddress, $0.count) } == 1
    }
}
