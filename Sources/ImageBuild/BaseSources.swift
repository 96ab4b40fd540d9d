import FoundationEssentials
import Glibc
import OCI
import ContentStore
import Layering
import Registry
import Images
import Diagnostics

/// The source a build's `base:` names: the one place a location becomes a source.
enum BaseSources {
    static func source(for request: BuildRequest, store: ContentStore, cache: LayerCache, mtime: Int64) throws -> any ImageSource {
        switch request.base {
        case .scratch:
            return ScratchSource()
        case .ociLayout(let directory, let tag):
            return LayoutSource(directory: directory, tag: tag, store: store)
        case .ociArchive(let file):
            return OCIArchiveSource(file: file, store: store)
        case .registry(let reference):
            let puller = ImagePuller(store: store, session: try request.registry.session(for: reference.registry),
                                     parallelBlobs: request.registry.upload.parallelBlobs, observer: request.transferObserver)
            // Its layers stay in the registry until an output needs their bytes: a push
            // to the same registry mounts them without a byte downloaded.
            return RegistrySource(reference: reference, puller: puller, layersOnDemand: true)
        case .rootfs(let file):
            return RootfsSource(file: file, store: store, cache: cache,
                                settings: LayerSettings(compression: request.compression, mtime: mtime, threads: request.threads))
        case .dockerArchive:
            throw Failure(.usage, "base \(request.base) is not supported yet; convert it with 'skopeo copy docker-archive:FILE oci:DIR:TAG' and use oci:DIR:TAG")
        }
    }
}

/// `rootfs:FILE.tar`: a root filesystem tarball that becomes the single base layer
/// (re-packed deterministically, cached by the tarball's identity), with no config.
final class RootfsSource: ImageSource {
    let file: String
    let store: ContentStore
    let cache: LayerCache
    let settings: LayerSettings
    /// Whether the last `image(for:)` found the layer in the cache, for the build report.
    private(set) var fromCache = false

    init(file: String, store: ContentStore, cache: LayerCache, settings: LayerSettings) {
        self.file = file
        self.store = store
        self.cache = cache
        self.settings = settings
    }

    var description: String { "base rootfs:\(file)" }

    func image(for platform: Platform) throws -> BaseImage {
        guard FileManager.default.fileExists(atPath: file) else {
            throw Failure(.missingInput, "base rootfs:\(file) does not exist; check the path")
        }
        let key = cache.key(forTarball: file, settings: settings)
        if let key, let hit = cache.lookup(key) {
            fromCache = true
            return BaseImage(config: nil, layers: [hit], name: nil, digest: nil)
        }
        let blob = try store.ingestLayer { try RootfsImport.build(tarball: file, settings: settings, into: $0) }
        if let key { cache.remember(blob, for: key) }
        fromCache = false
        return BaseImage(config: nil, layers: [blob], name: nil, digest: nil)
    }
}
