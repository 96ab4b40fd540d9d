import OCI
import Diagnostics

/// How a layer's tar is compressed.
public enum Compression: Sendable, Hashable, CustomStringConvertible {
    /// gzip at `level`, except blocks a quick sample shows to barely compress
    /// (under 15 % saved; model weights: ratio ~1.08), which are stored at level 0:
    /// still ordinary gzip to every runtime, at copy speed instead of ~20 MB/s a core.
    case auto(level: Int32)
    /// gzip at a fixed level 0–9 for every block.
    case gzip(level: Int32)
    /// Uncompressed tar (`application/vnd.oci.image.layer.v1.tar`).
    case none

    public static let defaultLevel: Int32 = 6
    public static let `default` = Compression.auto(level: defaultLevel)

    /// Parses `auto`, `gzip`, `gzip:N`, `none` (recipe field and `--compression` flag).
    public init(parsing text: String) throws {
        switch text {
        case "auto": self = .auto(level: Compression.defaultLevel)
        case "gzip": self = .gzip(level: Compression.defaultLevel)
        case "none", "uncompressed": self = .none
        default:
            if text.hasPrefix("gzip:"), let level = Int32(text.dropFirst(5)), (0...9).contains(level) {
                self = .gzip(level: level)
            } else if text.hasPrefix("auto:"), let level = Int32(text.dropFirst(5)), (1...9).contains(level) {
                self = .auto(level: level)
            } else {
                throw Failure(.usage, "invalid compression '\(text)': use auto, gzip, gzip:0-9, auto:1-9 or none")
            }
        }
    }

    public var mediaType: String {
        if case .none = self { return MediaType.ociLayer }
        return MediaType.ociLayerGzip
    }

    public var description: String {
        switch self {
        case .auto(let level): return level == Compression.defaultLevel ? "auto" : "auto:\(level)"
        case .gzip(let level): return "gzip:\(level)"
        case .none: return "none"
        }
    }
}
