import FoundationEssentials
import OCI
import ByteStreams
import Signing
import Diagnostics

/// A DSSE envelope (github.com/secure-systems-lab/dsse): the payload, its type,
/// and signatures over the pre-authentication encoding
/// `PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body`, so a
/// signature can never be taken for one over another type. in-toto attestations
/// travel in it.
public enum DSSEEnvelope {
    public static let mediaType = "application/vnd.dsse.envelope.v1+json"
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    public static func preAuthenticationEncoding(payloadType: String, payload: [UInt8]) -> [UInt8] {
        Array("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8) + payload
    }

    /// The envelope JSON; signed with `key` when given (an unsigned envelope has an
    /// empty `signatures` list, which verifiers treat as unsigned).
    public static func envelope(payloadType: String, payload: [UInt8], key: SigningKey?) throws -> [UInt8] {
        var signatures: [Signature] = []
        if let key {
            let signature = try key.sign(preAuthenticationEncoding(payloadType: payloadType, payload: payload))
            signatures.append(Signature(keyid: try keyID(key), sig: Data(signature).base64EncodedString()))
        }
        let envelope = Envelope(payloadType: payloadType, payload: Data(payload).base64EncodedString(), signatures: signatures)
        return try CanonicalJSON.encode(envelope)
    }

    /// The key's id: SHA-256 of its public key PEM, hex (what the envelope names it by).
    public static func keyID(_ key: SigningKey) throws -> String {
        SHA256Hasher.hash(try key.publicKeyPEM()).hex
    }

    struct Envelope: Encodable {
        var payloadType: String
        var payload: String
        var signatures: [Signature]
    }

    struct Signature: Encodable {
        var keyid: String
        var sig: String
    }
}
