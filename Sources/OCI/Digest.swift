import Diagnostics

/// A content digest such as `sha256:e3b0…`, validated on construction.
///
/// Grammar from the image spec (descriptor.md "Digests"): `algorithm ":" encoded`,
/// and for sha256 the encoded part is exactly 64 lowercase hex characters.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    // The 32 bytes of the SHA-256 as four big-endian words, inline: two Strings
    // (the hex alone a 112-byte heap allocation) cost a model set of 50,000 files
    // 5.6 MB of its peak memory. The text forms are made when asked for.
    private let word0, word1, word2, word3: UInt64

    /// Always `sha256`: the only algorithm gantry accepts.
    public var algorithm: String { "sha256" }
    /// The 64 lowercase hex digits.
    public var encoded: String {
        var hex = ""
        hex.reserveCapacity(64)
        for word in [word0, word1, word2, word3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                hex.unicodeScalars.append(Digest.hexDigits[Int((word >> UInt64(shift)) & 0xf)])
            }
        }
        return hex
    }

    private static let hexDigits: [Unicode.Scalar] = Array("0123456789abcdef".unicodeScalars)

    public init(_ string: String) throws {
        guard let colon = string.firstIndex(of: ":") else {
            throw Failure(.invalidInput, "invalid digest '\(string)': expected 'sha256:<64 hex digits>'")
        }
        let algorithm = String(string[..<colon])
        let encoded = Array(string[string.index(after: colon)...].utf8)
        guard algorithm == "sha256" else {
            throw Failure(.invalidInput, "unsupported digest algorithm in '\(string)': only sha256 is supported")
        }
        guard encoded.count == 64, encoded.allSatisfy(Digest.isLowerHex) else {
            throw Failure(.invalidInput, "invalid digest '\(string)': expected 64 lowercase hex digits after 'sha256:'")
        }
        func word(_ index: Int) -> UInt64 {
            encoded[(index * 16)..<(index * 16 + 16)].reduce(0) { $0 << 4 | UInt64(Digest.hexValue($1)) }
        }
        (word0, word1, word2, word3) = (word(0), word(1), word(2), word(3))
    }

    /// Builds a sha256 digest from the hash's 32 bytes (a hasher's output).
    public init(sha256 bytes: [UInt8]) {
        func word(_ index: Int) -> UInt64 {
            (0..<8).reduce(0) { value, offset in
                let at = index * 8 + offset
                return value << 8 | UInt64(at < bytes.count ? bytes[at] : 0)
            }
        }
        (word0, word1, word2, word3) = (word(0), word(1), word(2), word(3))
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// Short form for progress lines: `sha256:0123456789ab`.
    public var short: String { "\(algorithm):\(encoded.prefix(12))" }

    /// The order of the hex text (big-endian words compare as their digits do).
    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.word0, lhs.word1, lhs.word2, lhs.word3) < (rhs.word0, rhs.word1, rhs.word2, rhs.word3)
    }

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102)
    }

    private static func hexValue(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
