import FoundationEssentials
import CCrypto
import ByteStreams
import Diagnostics

/// A private key that signs: an ECDSA P-256 key from a PEM file (PKCS#8 or SEC1,
/// encrypted or not). The passphrase of an encrypted key comes from the
/// environment, never from a flag (flags show up in process lists and CI logs):
/// `GANTRY_KEY_PASSWORD`, else `COSIGN_PASSWORD` as cosign users have it.
public struct SigningKey: Sendable {
    public static let passwordVariables = ["GANTRY_KEY_PASSWORD", "COSIGN_PASSWORD"]

    let key: OpenSSLKey
    /// The file it came from, for messages.
    public let path: String

    /// Reads the key at `path`; `environment` gives the passphrase of an encrypted key.
    public init(path: String, environment: [String: String]) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(.missingInput, "signing key \(path) does not exist; make one with 'gantry key generate' or check --key")
        }
        let pem = try FileReader.readSmallFile(path, limit: 1 << 20)
        let text = String(decoding: pem, as: UTF8.self)
        if text.contains("ENCRYPTED COSIGN PRIVATE KEY") || text.contains("ENCRYPTED SIGSTORE PRIVATE KEY") {
            throw Failure(.invalidInput, "signing key \(path) is in cosign's own encrypted format, which only cosign reads; convert it to PEM with 'cosign export' or sign with a key from 'gantry key generate'")
        }
        let password = Self.passwordVariables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        let encrypted = text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
        if encrypted && password == nil {
            throw Failure(.usage, "signing key \(path) is encrypted; set GANTRY_KEY_PASSWORD (or COSIGN_PASSWORD) to its passphrase")
        }
        // The passphrase goes to OpenSSL as `u` (no callback: OpenSSL then takes it as the
        // NUL-terminated passphrase); it is not kept.
        var passphrase = Array((password ?? "").utf8CString)
        defer { for index in passphrase.indices { passphrase[index] = 0 } }
        let loaded: OpaquePointer? = try OpenSSLMemory.read(pem) { bio in
            passphrase.withUnsafeMutableBytes { PEM_read_bio_PrivateKey(bio, nil, nil, $0.baseAddress) }
        }
        guard let loaded else {
            let reason = OpenSSLKey.lastError()
            if encrypted { throw Failure(.authentication, "signing key \(path) cannot be decrypted with the passphrase in GANTRY_KEY_PASSWORD/COSIGN_PASSWORD (\(reason))") }
            throw Failure(.invalidInput, "signing key \(path) is not a PEM private key (\(reason)); make one with 'gantry key generate'")
        }
        key = OpenSSLKey(loaded)
        self.path = path
        try key.requireP256("signing key \(path)")
    }

    init(key: OpenSSLKey, path: String) {
        self.key = key
        self.path = path
    }

    /// ECDSA over SHA-256 of `message`, ASN.1 DER encoded (what cosign stores, base64'd).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        try sign { feed in try message.withUnsafeBytes(feed) }
    }

    /// The same over bytes handed over in pieces by `feeding` (a file read in
    /// chunks: `BlobSignature`), so nothing needs to be whole in memory.
    func sign(feeding: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw Failure(.internalFailure, "OpenSSL: \(OpenSSLKey.lastError())") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key.pointer) == 1 else {
            throw Failure(.internalFailure, "cannot sign with \(path): \(OpenSSLKey.lastError())")
        }
        try feeding { bytes in
            guard EVP_DigestSignUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
                throw Failure(.internalFailure, "cannot sign with \(path): \(OpenSSLKey.lastError())")
            }
        }
        var length = 0
        guard EVP_DigestSignFinal(context, nil, &length) == 1 else { throw Failure(.internalFailure, "cannot sign with \(path): \(OpenSSLKey.lastError())") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSignFinal(context, &signature, &length) == 1 else {
            throw Failure(.internalFailure, "cannot sign with \(path): \(OpenSSLKey.lastError())")
        }
        return Array(signature.prefix(length))
    }

    /// The matching public key, to check a signature just made or an old one by the same key.
    public var verificationKey: VerificationKey { VerificationKey(key: key, path: path) }

    public func publicKeyPEM() throws -> [UInt8] { try key.publicKeyPEM() }
}
