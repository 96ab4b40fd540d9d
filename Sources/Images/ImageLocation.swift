import FoundationEssentials
import Glibc
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
    /// An image in a registry (`python:3.12-slim`, `docker://myreg.azurecr.io/base:1@sha256:…`).
    case registry(Reference)

    /// Parses `scratch`, `oci:DIR[:TAG]`, `oci-archive:FILE`, `docker-archive:FILE[:REPO:TAG]`, `rootfs:FILE`,
    /// and, where `allowRegistry` (bases), `[docker://]registry/repository[:tag][@digest]`.
    public init(parsing text: String, role: String, allowRegistry: Bool = false) throws {
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
        } else if allowRegistry {
            let name = text.hasPrefix("docker://") ? try value(after: "docker://") : text
            do {
                self = .registry(try Reference(parsing: name))
            } catch {
                throw Failure(.usage, "\(role) '\(text)' is neither a known location nor an image reference (\(error)); use scratch, oci:DIR[:TAG], oci-archive:FILE, rootfs:FILE.tar or a reference like python:3.12-slim", cause: error)
            }
        } else {
            throw Failure(.usage, "\(role) '\(text)' is not a known location; use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE[:REPO:TAG] (push to a registry with --push REF)")
        }
    }

    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case .ociLayout(let directory, let tag): return "oci:\(directory)" + (tag.map { ":\($0)" } ?? "")
        case .ociArchive(let file): return "oci-archive:\(file)"
        case .dockerArchive(let file, let reference): return "docker-archive:\(file)" + (reference.map { ":\($0)" } ?? "")
        case .rootfs(let file): return "rootfs:\(file)"
        case .registry(let reference): return reference.description
        }
    }
}
