import FoundationEssentials
import OCI
import ByteStreams
import Diagnostics
import SystemSupport

/// The payload cosign signs: containers/image's "simple signing" JSON naming the
/// manifest digest, with cosign's type (specs/SIGNATURE_SPEC.md in sigstore/cosign).
/// Written byte for byte as cosign writes it (Go's encoding/json of sigstore's
/// payload.Cosign: fields in that order, no spaces, `optional` null), so a payload
/// gantry signs is one cosign would have signed.
public enum CosignPayload {
    public static let mediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    public static let type = "cosign container image signature"

    /// The payload for `digest` in `repository` (`registry/path`, no tag).
    public static func make(repository: String, digest: Digest) -> [UInt8] {
        let text = #"{"critical":{"identity":{"docker-reference":"# + jsonString(repository)
            + #"},"image":{"docker-manifest-digest":"# + jsonString(digest.description)
            + #"},"type":"# + jsonString(type) + #"},"optional":null}"#
        return Array(text.utf8)
    }

    /// What a payload claims, read as cosign's verifier reads it.
    public struct Claims: Sendable, Equatable {
        public var dockerReference: String
        public var digest: Digest
    }

    public static func claims(of payload: [UInt8]) throws -> Claims {
        guard case .object(let root) = try CanonicalJSON.decode(JSONValue.self, from: payload, source: "signature payload"),
              case .object(let critical) = root["critical"] ?? .null,
              case .string(let type) = critical["type"] ?? .null,
              case .object(let image) = critical["image"] ?? .null,
              case .string(let digestText) = image["docker-manifest-digest"] ?? .null,
              case .object(let identity) = critical["identity"] ?? .null,
              case .string(let reference) = identity["docker-reference"] ?? .null else {
            throw Failure(.invalidInput, "signature payload is not a cosign simple-signing document")
        }
        guard type == Self.type else { throw Failure(.invalidInput, "signature payload is of type '\(type)', not '\(Self.type)'") }
        return Claims(dockerReference: reference, digest: try Digest(digestText))
    }

    /// The tag cosign puts an image's signatures under: `sha256-<hex>.sig`.
    public static func signatureTag(for digest: Digest) -> String {
        "\(digest.algorithm)-\(digest.encoded).sig"
    }

    /// A JSON string literal as Go's encoding/json writes it (HTML characters escaped too).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&": out += cFormat("\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 { out += cFormat("\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
