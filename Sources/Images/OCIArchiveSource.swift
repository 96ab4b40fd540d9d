import FoundationEssentials
import Glibc
import Layering
import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// Images in an OCI archive (`oci-archive:FILE`, a tar of an image layout): the
/// layout's `index.json` and blobs are streamed from the tar into a private
/// scratch directory of the store, then read as a layout whose blobs are moved
/// (not copied) into the store. The scratch goes when the source does.
public final class OCIArchiveSource: ManifestSource {
    public let store: ContentStore
    public let file: String
    public let description: String
    private let role: String
    private var unpacked: LayoutSource?
    private var scratch: String?

    public init(file: String, store: ContentStore, role: String = "base") {
        self.file = file
        self.store = store
        self.role = role
        description = "\(role) oci-archive:\(file)"
    }

    deinit {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    public var baseName: String? { nil }

    public func root() throws -> Descriptor { try layout().root() }

    public func fetch(_ descriptors: [Descriptor]) throws { try layout().fetch(descriptors) }

    private func layout() throws -> LayoutSource {
        if let unpacked { return unpacked }
        guard FileManager.default.fileExists(atPath: file) else {
            throw Failure(.missingInput, "\(description) does not exist; check the path")
        }
        let directory = store.scratchPath(for: .archive)
        scratch = directory
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        try unpack(into: directory)
        var layout = LayoutSource(directory: directory, tag: nil, store: store, role: role)
        layout.adoptBlobs = true
        unpacked = layout
        return layout
    }

    /// Extracts only `index.json` and `blobs/sha256/*` (names checked), nothing else.
    private func unpack(into directory: String) throws {
        let reader = try TarReader(path: file, role: "base oci-archive")
        while let entry = try reader.nextEntry() {
            guard let name = TarReader.path(of: entry), TarReader.fileType(of: entry) == 0o100000 else { continue }
            let isBlob = name.hasPrefix("blobs/sha256/") && (try? Digest("sha256:" + name.dropFirst(13))) != nil
            guard name == "index.json" || isBlob else { continue }
            let sink = try FileDescriptorSink(creating: directory + "/" + name)
            try reader.readData { try sink.write($0) }
            try sink.sync()  // it may be renamed into the store as it is
            try sink.close()
        }
    }
}
