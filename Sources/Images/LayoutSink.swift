import FoundationEssentials
import Glibc
import ByteStreams
import OCI
import ContentStore
import Diagnostics
import SystemSupport

/// Writes into an OCI image layout directory (`oci:DIR[:TAG]`), new or existing:
/// blobs linked from the store (`BlobStore.link`: a hard link where the file
/// system allows, a verified copy otherwise), then the root added to `index.json`.
/// A directory this sink created is removed again when writing fails.
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
            let layout = try OCILayout(creatingAt: directory)
            for blob in image.blobs { try layout.link(blob, from: store) }
            if let tag {
                try layout.index.tag(tag, image.root)
            } else {
                try layout.index.update { index in
                    index.manifests.removeAll { $0.digest == image.root.digest && $0.annotations == nil }
                    index.manifests.append(image.root)
                }
            }
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
        let layout = try OCILayout(creatingAt: directory)
        for blob in blobs + [artifact] { try layout.link(blob, from: store) }
        try layout.index.update { index in
            if !index.manifests.contains(where: { $0.digest == artifact.digest }) { index.manifests.append(artifact) }
        }
    }
}
