import FoundationEssentials
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
        let signature = try key.sign { feed in try FileReader.forEachChunk(of: path, feed) }
        return Data(signature).base64EncodedString()
    }

    /// Whether `signature` (base64, surrounding blanks ignored) is `key`'s over the file at `path`.
    public static func verify(file path: String, signature: String, with key: VerificationKey) throws -> Bool {
        guard let der = Data(base64Encoded: signature.filter { !$0.isWhitespace }) else {
            throw Failure(.invalidInput, "the signature is not base64; pass the .sig file 'gantry sign-blob' or 'cosign sign-blob' wrote")
        }
        return try key.verify(signature: [UInt8](der)) { feed in try FileReader.forEachChunk(of: path, feed) }
    }
}
