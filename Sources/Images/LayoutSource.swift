import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// Images in an OCI image layout directory (`oci:DIR[:TAG]`), copied into the store
/// and verified blob by blob.
public struct LayoutSource: ManifestSource {
    public let store: ContentStore
    public let directory: String
    public let tag: String?
    /// How messages name it, e.g. "base oci:/images/python:3.12".
    public let description: String
    /// Move blob files into the store instead of copying (they are ours to take: an unpacked archive).
    var adoptBlobs = false

    public init(directory: String, tag: String?, store: ContentStore, role: String = "base") {
        self.directory = directory
        self.tag = tag
        self.store = store
        description = "\(role) oci:\(directory)" + (tag.map { ":\($0)" } ?? "")
    }

    public var baseName: String? { nil }

    public func root() throws -> Descriptor {
        let indexPath = directory + "/index.json"
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw Failure(.missingInput, "\(description) is not an OCI image layout (no index.json); check the path")
        }
        let index = try CanonicalJSON.decode(Index.self, from: try FileReader.readSmallFile(indexPath), source: indexPath)
        let chosen = try Self.byTag(index.manifests, tag: tag, location: description)
        try fetch([chosen])
        return chosen
    }

    public func fetch(_ descriptors: [Descriptor]) throws {
        let layout = OCILayout(at: directory)
        for descriptor in descriptors where !store.contains(descriptor.digest) {
            if adoptBlobs, layout.has(descriptor.digest) {
                try store.adopt(file: layout.blobPath(descriptor.digest), expected: descriptor)
            } else {
                try store.ingest(descriptor, from: layout)
            }
        }
    }

    /// The entry of an index named `tag` (org.opencontainers.image.ref.name), or its
    /// only entry when no tag is given. `location` names the layout in errors.
    public static func byTag(_ manifests: [Descriptor], tag: String?, location: String) throws -> Descriptor {
        let tags = manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
        if let tag {
            guard let found = manifests.last(where: { $0.annotations?[AnnotationKey.refName] == tag }) else {
                let known = tags.isEmpty ? "it has no tags" : "its tags: \(tags.joined(separator: ", "))"
                throw Failure(.missingInput, "\(location) has no tag '\(tag)' (\(known)); name an existing tag")
            }
            return found
        }
        guard manifests.count == 1, let only = manifests.first else {
            let known = tags.isEmpty ? "" : " (tags: \(tags.joined(separator: ", ")))"
            throw Failure(.usage, "\(location) holds \(manifests.count) images\(known); name one with :TAG")
        }
        return only
    }
}
