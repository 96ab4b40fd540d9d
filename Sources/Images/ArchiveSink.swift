import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import Diagnostics
import SystemSupport

/// Writes an image as one tar file: an OCI archive (`oci-archive:FILE`, a tar of
/// an image layout) or a docker-archive (`docker-archive:FILE[:REPO:TAG]`, the
/// same plus the `manifest.json` and `repositories` that `docker load` reads).
/// Written to a temp file and renamed: an error leaves no partial archive.
public struct ArchiveSink: ImageSink {
    public enum Format: Sendable {
        case oci
        /// With the name to load it as, if any.
        case docker(Reference?)
    }

    public let file: String
    public let format: Format

    public init(file: String, format: Format) {
        self.file = file
        self.format = format
    }

    public var description: String {
        switch format {
        case .oci: return "oci-archive:\(file)"
        case .docker(let reference): return "docker-archive:\(file)" + (reference.map { ":\($0)" } ?? "")
        }
    }

    public func checkWritable() throws {
        try OutputPath.checkCreatable(file, what: "output \(description)")
        if PathName.isDirectory(file) == true {
            throw Failure(.cannotCreateOutput, "output \(description): \(file) is a directory; name a file for the archive")
        }
    }

    public func write(_ image: StoredImage, from store: ContentStore) throws {
        var dockerReference: Reference?
        var dockerImage: ImageManifest?
        if case .docker(let reference) = format {
            // docker load takes one image per name: an index has to be narrowed to one platform first.
            guard case .manifest(let single) = image else {
                throw Failure(.usage, "output \(description): a docker-archive holds one platform, and this image is an index of \(image.manifests.count); choose one platform, or write oci-archive:FILE")
            }
            // Docker's archive format knows gzip and plain tar layers only.
            if let layer = single.manifest.layers.first(where: { $0.mediaType.hasSuffix("+zstd") }) {
                throw Failure(.usage, "output \(description): layer \(layer.digest.short) is zstd-compressed, which Docker's archive format cannot hold; build with compression auto or gzip, or write oci-archive:FILE")
            }
            dockerReference = reference
            dockerImage = single
        }
        try AtomicFile.write(to: file) { sink in
            let tar = try TarWriter(sink: sink)
            func document(_ name: String, _ bytes: [UInt8]) throws {
                try tar.writeHeader(path: name, type: .regular, size: Int64(bytes.count), mode: 0o644, uid: 0, gid: 0, mtime: 0)
                try bytes.withUnsafeBytes { try tar.writeData($0) }
            }
            try document("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            var descriptor = image.root
            descriptor.annotations = nil
            if let reference = dockerReference, let tag = reference.tag {
                // The full name, as `docker save` writes it: podman reads this OCI side of a
                // docker-archive first, and a bare tag there loads as `localhost/<tag>:latest`.
                let fullName = "\(reference.name):\(tag)"
                descriptor.annotations = [AnnotationKey.refName: fullName, AnnotationKey.containerdImageName: fullName]
            }
            try document("index.json", try CanonicalJSON.encode(Index(manifests: [descriptor])))
            if let dockerImage {
                try document("manifest.json", try CanonicalJSON.encode([Self.dockerManifest(dockerImage, dockerReference)]))
                if let reference = dockerReference, let tag = reference.tag {
                    try document("repositories", try CanonicalJSON.encode(
                        [Self.familiarName(reference): [tag: dockerImage.manifest.config.digest.encoded]]))
                }
            }
            for directory in ["blobs", "blobs/sha256"] {
                try tar.writeHeader(path: directory, type: .directory, size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0)
            }
            for blob in image.blobs {
                try tar.writeHeader(path: "blobs/sha256/\(blob.digest.encoded)", type: .regular, size: blob.size,
                                    mode: 0o644, uid: 0, gid: 0, mtime: 0)
                try store.readVerified(blob) { try tar.writeData($0) }
            }
            try tar.finish()
        }
    }

    /// The `manifest.json` entry `docker load` reads (Config, RepoTags, Layers).
    static func dockerManifest(_ image: ImageManifest, _ reference: Reference?) -> [String: JSONValue] {
        var entry: [String: JSONValue] = [
            "Config": .string("blobs/sha256/\(image.manifest.config.digest.encoded)"),
            "Layers": .array(image.manifest.layers.map { .string("blobs/sha256/\($0.digest.encoded)") }),
        ]
        if let reference, let tag = reference.tag {
            entry["RepoTags"] = .array([.string("\(familiarName(reference)):\(tag)")])
        } else {
            entry["RepoTags"] = .null
        }
        return entry
    }

    /// Docker's short form: `docker.io/library/app` → `app`.
    static func familiarName(_ reference: Reference) -> String {
        guard reference.registry == Reference.defaultRegistry else { return reference.name }
        let repository = reference.repository
        return repository.hasPrefix("library/") ? String(repository.dropFirst(8)) : repository
    }
}
