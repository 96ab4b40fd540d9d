import Diagnostics

/// A content digest such as `sha256:e3b0…`, validated on construction.
///
/// Grammar from the image spec (descriptor.md "Digests"): `algorithm ":" encoded`,
/// and for sha256 the encoded part is exactly 64 lowercase hex characters.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    public init(_ string: String) throws {
        guard let colon = string.firstIndex(of: ":") else {
            throw Failure(.invalidInput, "invalid digest '\(string)': expected 'sha256:<64 hex digits>'")
        }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        guard algorithm == "sha256" else {
            throw Failure(.invalidInput, "unsupported digest algorithm in '\(string)': only sha256 is supported")
        }
        guard encoded.utf8.count == 64, encoded.utf8.allSatisfy(Digest.isLowerHex) else {
            throw Failure(.invalidInput, "invalid digest '\(string)': expected 64 lowercase hex digits after 'sha256:'")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Builds a sha256 digest from raw hash bytes.
    public init(sha256 bytes: [UInt8]) {
        let hex: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        self.algorithm = "sha256"
        self.encoded = out
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// Short form for progress lines: `sha256:0123456789ab`.
    public var short: String { "\(algorithm):\(encoded.prefix(12))" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
