import Foundation
import OCI
import ByteStreams
import ContentStore
import Layering
import Diagnostics

/// Writes a stored image to an output location: an OCI layout directory, an OCI
/// archive or a docker-archive. Archives are written to a temp file and renamed,
/// and a new layout directory is removed again on failure: an error leaves no
/// half-written output.
public struct ImageWriter {
    let store: ContentStore
    let image: AssembledImage

    func write(to location: ImageLocation) throws {
        switch location {
        case .ociLayout(let directory, let tag):
            try writeLayout(directory: directory, tag: tag)
        case .ociArchive(let file):
            try writeArchive(file: file, docker: nil, includeDockerManifest: false)
        case .dockerArchive(let file, let reference):
            try writeArchive(file: file, docker: reference, includeDockerManifest: true)
        case .scratch, .rootfs, .registry:
            throw Failure(.usage, "cannot write an image to \(location); use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE[:REPO:TAG], or --push REF for a registry")
        }
    }

    /// Checks, before any work, that an output can be created where it is asked for.
    static func checkWritable(_ location: ImageLocation) throws {
        let path: String
        switch location {
        case .ociLayout(let directory, _): path = directory
        case .ociArchive(let file), .dockerArchive(let file, _): path = file
        case .scratch, .rootfs, .registry:
            throw Failure(.usage, "cannot write an image to \(location); use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE[:REPO:TAG], or --push REF for a registry")
        }
        try checkParentExists(of: path, what: "output \(location)")
        let parent = PathName.parent(of: path)
        guard access(parent, W_OK | X_OK) == 0 else {
            throw Failure(.cannotCreateOutput, "output \(location): directory \(parent) is not writable; choose another place")
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        switch location {
        case .ociLayout(let directory, _):
            guard exists else { return }
            guard isDirectory.boolValue else {
                throw Failure(.cannotCreateOutput, "output \(location): \(directory) is a file, not a directory; remove it or choose another path")
            }
            // Adding to an existing layout is fine; filling someone's unrelated directory is not.
            let isLayout = FileManager.default.fileExists(atPath: directory + "/oci-layout")
            let isEmpty = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
            guard isLayout || isEmpty else {
                throw Failure(.cannotCreateOutput, "output \(location): \(directory) is a non-empty directory that is not an OCI layout; choose an empty or new directory")
            }
            guard access(directory, W_OK | X_OK) == 0 else {
                throw Failure(.cannotCreateOutput, "output \(location): directory \(directory) is not writable; choose another place")
            }
        default:
            if exists && isDirectory.boolValue {
                throw Failure(.cannotCreateOutput, "output \(location): \(path) is a directory; name a file for the archive")
            }
        }
    }

    /// Fails unless the directory that would hold `path` exists.
    public static func checkParentExists(of path: String, what: String) throws {
        let parent = PathName.parent(of: path)
        var isDirectory: ObjCBool = false
        guard (FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) && isDirectory.boolValue) else {
            throw Failure(.cannotCreateOutput, "\(what): directory \(parent) does not exist; create it first")
        }
    }

    /// Manifest, config and layers: every blob the image needs.
    private var blobs: [Descriptor] {
        [image.manifestDescriptor, image.manifest.config] + image.manifest.layers
    }

    private func writeLayout(directory: String, tag: String?) throws {
        let existed = FileManager.default.fileExists(atPath: directory)
        do {
            let layout = try ContentStore(root: directory)
            for blob in blobs where !layout.contains(blob.digest) {
                let source = store.blobPath(blob.digest)
                // A hard link costs nothing on the same file system (blobs never change),
                // but must not pass on a damaged blob: hash it unless this process just did.
                try store.verify(blob)
                if link(source, layout.blobPath(blob.digest)) != 0 {
                    guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
                        throw SystemError.failure("write", path: layout.blobPath(blob.digest))
                    }
                    try layout.ingest(from: store, blob)
                }
            }
            try layout.index.update { index in
                var descriptor = image.manifestDescriptor
                if let tag {
                    index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == tag }
                    descriptor.annotations = [AnnotationKey.refName: tag]
                } else {
                    index.manifests.removeAll { $0.digest == descriptor.digest && $0.annotations == nil }
                }
                index.manifests.append(descriptor)
            }
            // The empty ingest area is not part of an exported layout (rmdir keeps it if in use).
            rmdir("\(directory)/ingest")
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    private func writeArchive(file: String, docker reference: Reference?, includeDockerManifest: Bool) throws {
        try AtomicFile.write(to: file) { sink in
            let tar = try TarWriter(sink: sink)
            func document(_ name: String, _ bytes: [UInt8]) throws {
                try tar.writeHeader(path: name, type: .regular, size: Int64(bytes.count), mode: 0o644, uid: 0, gid: 0, mtime: 0)
                try bytes.withUnsafeBytes { try tar.writeData($0) }
            }
            try document("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            var descriptor = image.manifestDescriptor
            if let reference, let tag = reference.tag {
                // The full name, as `docker save` writes it: podman reads this OCI side of a
                // docker-archive first, and a bare tag there loads as `localhost/<tag>:latest`.
                let fullName = "\(reference.name):\(tag)"
                descriptor.annotations = [AnnotationKey.refName: fullName, AnnotationKey.containerdImageName: fullName]
            }
            try document("index.json", try CanonicalJSON.encode(Index(manifests: [descriptor])))
            if includeDockerManifest {
                try document("manifest.json", try CanonicalJSON.encode([dockerManifest(reference)]))
                if let reference, let tag = reference.tag {
                    try document("repositories", try CanonicalJSON.encode(
                        [Self.familiarName(reference): [tag: image.manifest.config.digest.encoded]]))
                }
            }
            for directory in ["blobs", "blobs/sha256"] {
                try tar.writeHeader(path: directory, type: .directory, size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0)
            }
            var written = Set<Digest>()
            for blob in blobs where written.insert(blob.digest).inserted {
                try tar.writeHeader(path: "blobs/sha256/\(blob.digest.encoded)", type: .regular, size: blob.size,
                                    mode: 0o644, uid: 0, gid: 0, mtime: 0)
                try store.readVerified(blob) { try tar.writeData($0) }
            }
            try tar.finish()
        }
    }

    /// The `manifest.json` entry `docker load` reads (Config, RepoTags, Layers).
    private func dockerManifest(_ reference: Reference?) -> [String: JSONValue] {
        var entry: [String: JSONValue] = [
            "Config": .string("blobs/sha256/\(image.manifest.config.digest.encoded)"),
            "Layers": .array(image.manifest.layers.map { .string("blobs/sha256/\($0.digest.encoded)") }),
        ]
        if let reference, let tag = reference.tag {
            entry["RepoTags"] = .array([.string("\(Self.familiarName(reference)):\(tag)")])
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
