import FoundationEssentials
import CCrypto
import ByteStreams
import Diagnostics

/// Signatures over a file, as `cosign sign-blob --key` makes them: ECDSA P-256
/// over the SHA-256 of the file's bytes, ASN.1 DER, written base64 (one line).
/// `cosign verify-blob --key KEY.pub --signature FILE.sig FILE` checks them, and
/// so does `openssl dgst -sha256 -verify KEY.pub -signature <(base64 -d FILE.sig)`.
/// The file is read in chunks, never whole: a release tarball or a model.
public enum BlobSignature {
    /// The base64 signature of the file at `path`.
    public static func sign(file path: String, with key: SigningKey) throws -> String {
        guard let context = EVP_MD_CTX_new() else { throw Failure(.internalFailure, "OpenSSL: \(OpenSSLKey.lastError())") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key.key.pointer) == 1 else {
            throw Failure(.internalFailure, "cannot sign with \(key.path): \(OpenSSLKey.lastError())")
        }
        try FileReader.forEachChunk(of: path) { chunk in
            guard EVP_DigestSignUpdate(context, chunk.baseAddress, chunk.count) == 1 else {
                throw Failure(.internalFailure, "cannot sign \(path): \(OpenSSLKey.lastError())")
            }
        }
        var length = 0
        guard EVP_DigestSignFinal(context, nil, &length) == 1 else { throw Failure(.internalFailure, "cannot sign \(path): \(OpenSSLKey.lastError())") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSignFinal(context, &signature, &length) == 1 else { throw Failure(.internalFailure, "cannot sign \(path): \(OpenSSLKey.lastError())") }
        return Data(signature.prefix(length)).base64EncodedString()
    }

    /// Whether `signature` (base64, surrounding blanks ignored) is `key`'s over the file at `path`.
    public static func verify(file path: String, signature: String, with key: VerificationKey) throws -> Bool {
        let text = signature.filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: text) else {
            throw Failure(.invalidInput, "the signature is not base64; pass the .sig file 'gantry sign-blob' or 'cosign sign-blob' wrote")
        }
        guard let context = EVP_MD_CTX_new() else { throw Failure(.internalFailure, "OpenSSL: \(OpenSSLKey.lastError())") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key.key.pointer) == 1 else {
            ERR_clear_error()
            throw Failure(.invalidInput, "\(key.path) cannot verify ECDSA signatures: \(OpenSSLKey.lastError())")
        }
        try FileReader.forEachChunk(of: path) { chunk in
            guard EVP_DigestVerifyUpdate(context, chunk.baseAddress, chunk.count) == 1 else {
                throw Failure(.internalFailure, "cannot verify \(path): \(OpenSSLKey.lastError())")
            }
        }
        let bytes = [UInt8](der)
        let status = bytes.withUnsafeBufferPointer { EVP_DigestVerifyFinal(context, $0.baseAddress, $0.count) }
        ERR_clear_error()  // a bad signature leaves a parse or mismatch error queued
        return status == 1
    }
}
