import FoundationEssentials
import OCI
import ContentStore
import Layering
import Registry
import Images
import Diagnostics

/// The C library of a build's base, for choosing Python wheels: its layers are
/// read from the top down until one holds the library (`CLibraryProbe`). What each
/// layer holds is recorded in the store's python cache by the layer's digest, so
/// an unchanged base is read once. A base layer left in its registry (a registry
/// base, see `LayerBackfill`) is fetched for this, once.
struct BaseCLibrary {
    let store: ContentStore
    let registry: RegistrySettings

    /// What one layer was found to hold: a C library, or none (`library` nil).
    private struct LayerRecord: Codable {
        var layer: Digest
        var library: CLibrary?
    }

    func find(in base: BaseImage) throws -> CLibrary? {
        for layer in base.layers.reversed() {
            let descriptor = layer.descriptor
            let key = "libc-" + descriptor.digest.encoded
            if let record = store.cacheRecord(LayerRecord.self, in: .python, key: key), record.layer == descriptor.digest {
                if let library = record.library { return library }
                continue
            }
            if !store.contains(descriptor.digest) { try fetch(descriptor, of: base) }
            try store.verify(descriptor)
            let library = try CLibraryProbe.find(inLayer: store.blobPath(descriptor.digest), role: "base layer \(descriptor.digest.short)")
            store.saveCacheRecord(LayerRecord(layer: descriptor.digest, library: library), in: .python, key: key)
            if let library { return library }
        }
        return nil
    }

    /// A registry base's layer, fetched from the base's repository.
    private func fetch(_ layer: Descriptor, of base: BaseImage) throws {
        guard let name = base.name, let digest = base.digest else {
            throw Failure(.missingInput, "base layer \(layer.digest.short) is not in the store \(store.root); build again")
        }
        // The annotations a build's manifest carries are what LayerBackfill finds a base layer by.
        let manifest = Manifest(config: layer, layers: base.layers.map(\.descriptor),
                                annotations: [AnnotationKey.baseName: name, AnnotationKey.baseDigest: digest.description])
        try LayerBackfill(store: store, settings: registry, observer: nil).fetch([layer], of: manifest)
    }
}
