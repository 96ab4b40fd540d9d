import FoundationEssentials
import Glibc
import ByteStreams
import OCI
import ContentStore
import Diagnostics
import SystemSupport

/// Writes into an OCI image layout directory (`oci:DIR[:TAG]`), new or existing:
/// blobs hard-linked from the store where the file system allows (copied
/// otherwise), then the root added to `index.json`. A directory this sink created
/// is removed again when writing fails.
public struct LayoutSink: ImageSink {
    public let directory: String
    public let tag: String?

    public init(directory: String, tag: String?) {
        self.directory = directory
        self.tag = tag
    }

    public var description: String { "oci:\(directory)" + (tag.map { ":\($0)" } ?? "") }

    public func checkWritable() throws {
        let what = "output \(description)"
        try OutputPath.checkCreatable(directory, what: what)
        guard let isDirectory = PathName.isDirectory(directory) else { return }
        guard isDirectory else {
            throw Failure(.cannotCreateOutput, "\(what): \(directory) is a file, not a directory; remove it or choose another path")
        }
        // Adding to an existing layout is fine; filling someone's unrelated directory is not.
        let isLayout = FileManager.default.fileExists(atPath: directory + "/oci-layout")
        let isEmpty = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
        guard isLayout || isEmpty else {
            throw Failure(.cannotCreateOutput, "\(what): \(directory) is a non-empty directory that is not an OCI layout; choose an empty or new directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw Failure(.cannotCreateOutput, "\(what): directory \(directory) is not writable; choose another place")
        }
    }

    public func write(_ image: StoredImage, from store: ContentStore) throws {
        let existed = FileManager.default.fileExists(atPath: directory)
        do {
            let layout = try ContentStore(root: directory)
            try Self.copy(image.blobs, from: store, into: layout)
            try layout.index.update { index in
                var descriptor = image.root
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

    /// Adds an artifact about an image already written here (an SBOM, provenance: a
    /// manifest with a `subject`) and its blobs; `index.json` lists it untagged, with
    /// its `artifactType`, which is how layout readers (oras, the image-layout spec)
    /// find referrers. Written once: the same artifact again changes nothing.
    public func writeReferrer(_ artifact: Descriptor, blobs: [Descriptor], from store: ContentStore) throws {
        let layout = try ContentStore(root: directory)
        try Self.copy(blobs + [artifact], from: store, into: layout)
        try layout.index.update { index in
            if !index.manifests.contains(where: { $0.digest == artifact.digest }) { index.manifests.append(artifact) }
        }
        rmdir("\(directory)/ingest")
    }

    /// Blobs the layout lacks, hard-linked from the store where the file system allows.
    private static func copy(_ blobs: [Descriptor], from store: ContentStore, into layout: ContentStore) throws {
        for blob in blobs where !layout.contains(blob.digest) {
            // A hard link costs nothing on the same file system (blobs never change),
            // but must not pass on a damaged blob: hash it unless this process just did.
            try store.verify(blob)
            if link(store.blobPath(blob.digest), layout.blobPath(blob.digest)) != 0 {
                guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
                    throw SystemError.failure("write", path: layout.blobPath(blob.digest))
                }
                try layout.ingest(from: store, blob)
            }
        }
    }
}
