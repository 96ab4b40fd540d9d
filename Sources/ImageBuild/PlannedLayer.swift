import OCI
import Layering
import Diagnostics
import Fetch
import DebianPackages

extension Builder {
    /// A new layer of a build, planned before anything is built: where it comes
    /// from, what it is made of, how it is compressed and described. `LayerJob`
    /// builds it (or finds it in a cache); origins added later (a model file set,
    /// OS packages) are new cases of `Origin` carrying what only they need.
    struct PlannedLayer: Sendable {
        /// Where a layer's files come from, with what only that origin needs.
        enum Origin: Sendable {
            /// OS packages from Debian repositories, as chosen (for the SBOM).
            case osPackages([ResolvedPackage])
            /// Python packages pip installed (or would install) at the destination.
            case dependencies
            /// A model file, one shard of a directory model, or its small files.
            case model(ModelInput)
            /// The project's files: the history line counts its entries, and its
            /// registry-cache key is the content of its files (a fresh checkout has
            /// new inodes and mtimes), hashed only once the store's own cache misses.
            case app
        }

        /// Where a layer streams while it is written (`LayerStreams`): the app's push
        /// target, or the model image's repository (`model.image`).
        enum UploadTarget: Sendable {
            case app
            case modelImage
        }

        /// What a model layer is read from and records.
        struct ModelInput: Sendable {
            /// The model the bytes are read from: its digest keys the layer, and a
            /// local model read in place is checked unchanged after the build.
            var source: FetchedModel?
            /// The model files the layer reads; those without a stamp were downloaded
            /// into the store and are verified before they are read (see `storeBlobs`).
            var files: [FetchedModel.ModelFile] = []
            /// The model recorded with the layer's registry-cache entry.
            var cacheRecord: CachedModel?
            /// A local file no record knew the digest of, in a build whose cache
            /// cannot hit: its digest comes from the layer's own read of it, and
            /// the layer's history line from the digest.
            var hashedWhileBuilt: UnhashedLocalModel?
            var historyOnceHashed: (@Sendable (Digest) -> String)?

            /// Downloaded model files in the store (a local file has a stamp and is read in place).
            var storeBlobs: some Sequence<Descriptor> {
                files.lazy.filter { $0.stamp == nil }.map { Descriptor(mediaType: "application/octet-stream", digest: $0.digest, size: $0.size) }
            }
        }

        /// What the layer is made of: files to build it from, or a registry-cache
        /// hit found before its inputs were made (no pip run, no download).
        enum Content: Sendable {
            case files(FileSet)
            /// OS packages: written from their .debs (downloaded only on a cache miss).
            case packages(PackageInstaller, PackageInstaller.Plan)
            case registryCacheHit(RegistryLayerCache.Hit)
        }

        /// Its key in the registry layer cache (`--cache-repo`); `asked` once that
        /// cache was looked up (a miss needs no second look).
        struct RemoteKey: Sendable {
            var key: String
            var asked: Bool
        }

        var origin: Origin
        /// Where its files go in the image.
        var destination: String
        var content: Content
        var compression: Compression
        var description: String
        var createdBy: String
        var remoteKey: RemoteKey? = nil
        /// Which image's repository it starts going up to while it is written.
        var uploadTarget = UploadTarget.app

        var fileSet: FileSet? {
            if case .files(let fileSet) = content { return fileSet }
            return nil
        }

        var modelInput: ModelInput? {
            if case .model(let input) = origin { return input }
            return nil
        }

        var role: ImageParts.NewLayer.Role {
            switch origin {
            case .osPackages: return .packages
            case .dependencies: return .dependencies
            case .model: return .model
            case .app: return .app
            }
        }

        /// A one-file model layer's history line.
        static func modelHistory(_ digest: Digest, at path: String) -> String {
            "gantry: model \(digest) at \(path)"
        }

        /// The history line: an app layer's names its entry count, known once its files were walked.
        func history(entries: Int?) throws -> String {
            guard case .app = origin else { return createdBy }
            guard let entries else { throw Failure(.internalFailure, "layer \(description) was not walked; this is a bug in gantry") }
            return "gantry: \(entries) entr\(entries == 1 ? "y" : "ies") at \(destination)"
        }
    }
}
