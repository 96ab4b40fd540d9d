import Foundation
import OCI
import Diagnostics

/// Where an image is read from or written to, in skopeo's transport syntax.
public enum ImageLocation: Sendable, Equatable, CustomStringConvertible {
    case scratch
    /// An OCI image layout directory, optionally one tag in it.
    case ociLayout(directory: String, tag: String?)
    /// A tar of an OCI image layout.
    case ociArchive(file: String)
    /// A `docker save` style tarball, optionally with a repository:tag to load it as.
    case dockerArchive(file: String, reference: Reference?)
    /// A root filesystem tarball that becomes the single base layer.
    case rootfs(file: String)

    /// Parses `scratch`, `oci:DIR[:TAG]`, `oci-archive:FILE`, `docker-archive:FILE[:REPO:TAG]`, `rootfs:FILE`.
    public init(parsing text: String, role: String) throws {
        func value(after prefix: String) throws -> String {
            let rest = String(text.dropFirst(prefix.count))
            guard !rest.isEmpty else { throw Failure(.usage, "\(role) '\(text)' names no path after '\(prefix)'") }
            return rest
        }
        if text == "scratch" {
            self = .scratch
        } else if text.hasPrefix("oci:") {
            let rest = try value(after: "oci:")
            // The tag follows the last ':' after the last '/', as in skopeo.
            let lastSlash = rest.lastIndex(of: "/")
            if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
                let tag = String(rest[rest.index(after: colon)...])
                guard !tag.isEmpty, !tag.contains("/") else { throw Failure(.usage, "\(role) '\(text)': empty tag after ':'") }
                self = .ociLayout(directory: String(rest[..<colon]), tag: tag)
            } else {
                self = .ociLayout(directory: rest, tag: nil)
            }
        } else if text.hasPrefix("oci-archive:") {
            self = .ociArchive(file: try value(after: "oci-archive:"))
        } else if text.hasPrefix("docker-archive:") {
            let rest = try value(after: "docker-archive:")
            if let colon = rest.firstIndex(of: ":") {
                var reference = try Reference(parsing: String(rest[rest.index(after: colon)...]))
                if reference.tag == nil && reference.digest == nil { reference.tag = "latest" }
                self = .dockerArchive(file: String(rest[..<colon]), reference: reference)
            } else {
                self = .dockerArchive(file: rest, reference: nil)
            }
        } else if text.hasPrefix("rootfs:") {
            self = .rootfs(file: try value(after: "rootfs:"))
        } else {
            throw Failure(.usage, "\(role) '\(text)' is not a known location; use scratch, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE[:REPO:TAG] or rootfs:FILE.tar")
        }
    }

    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case .ociLayout(let directory, let tag): return "oci:\(directory)" + (tag.map { ":\($0)" } ?? "")
        case .ociArchive(let file): return "oci-archive:\(file)"
        case .dockerArchive(let file, let reference): return "docker-archive:\(file)" + (reference.map { ":\($0)" } ?? "")
        case .rootfs(let file): return "rootfs:\(file)"
        }
    }
}
