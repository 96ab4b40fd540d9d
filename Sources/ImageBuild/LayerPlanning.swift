import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import ImageContents
import Recipes
import Diagnostics
import Fetch
import SystemSupport

/// Planning a build's new layers: what each one is made of (installed Python
/// packages, the model, the app's files), its keys, and what the registry layer
/// cache already has, before anything is built (`LayerJob` builds them).
extension Builder {
    /// A layer to build: its files, how to compress them, and how to describe it.
    struct PlannedLayer: Sendable {
        enum Kind: Sendable { case dependencies, model, app }
        var kind: Kind
        /// Where its files go in the image.
        var destination: String
        /// nil for a layer found in the registry cache before its inputs were made (pip, a download).
        var fileSet: FileSet?
        var compression: Compression
        var description: String
        var createdBy: String
        /// A store blob the layer's files come from (the model), verified before it is read.
        var storeBlob: Descriptor? = nil
        /// A local model read in place: checked unchanged after the layer is built.
        var builtFrom: FetchedModel? = nil
        /// Its key in the registry layer cache (`--cache-repo`), and what that cache gave.
        var remoteKey: String? = nil
        var remoteHit: RegistryLayerCache.Hit? = nil
        /// Whether the registry cache was already asked (a miss needs no second look).
        var remoteChecked = false
        /// An app layer: its registry-cache key is the content of its files, hashed
        /// by `LayerJob` only when the store's own cache misses.
        var keyedByContent = false
        /// The model this layer holds, for its cache entry.
        var model: CachedModel? = nil
        /// Whether it may start going up to the push target while it is written
        /// (not the model of a model image: that goes to another repository).
        var streamable = true
        /// An app layer's destination: its history line is "gantry: N entries at DEST".
        var countsEntriesAt: String? = nil

        func history(entries: Int?) throws -> String {
            guard let destination = countsEntriesAt else { return createdBy }
            guard let entries else { throw Failure(.internalFailure, "layer \(description) was not walked; this is a bug in gantry") }
            return "gantry: \(entries) entr\(entries == 1 ? "y" : "ies") at \(destination)"
        }
    }

    /// What every layer of one build shares.
    struct PlanContext: Sendable {
        var mtime: Int64
        var threads: Int
        var remote: RegistryLayerCache?

        func settings(_ compression: Compression) -> LayerSettings {
            LayerSettings(compression: compression, mtime: mtime, threads: threads)
        }
    }

    static func pythonLayer(_ python: PythonSettings, platform: Platform, cLibrary: CLibrary?, compression: Compression,
                            plan: PlanContext, store: ContentStore) throws -> PlannedLayer {
        let dependencies = PythonDependencies(store: store, settings: python, platform: platform, cLibrary: cLibrary)
        var layer = PlannedLayer(kind: .dependencies, destination: python.target, fileSet: nil, compression: compression, description: python.target,
                                 createdBy: "gantry: python dependencies from \(PathName.lastComponent(of: python.requirements)) at \(python.target) for \(dependencies.platformTags[0])")
        if let remote = plan.remote {
            // Keyed by what pip is asked for, so a fresh agent finds it without running pip.
            let key = RemoteLayerKey.python(requirements: try dependencies.requirements(), platformTag: dependencies.platformTag,
                                            pythonVersion: python.version, target: python.target, settings: plan.settings(compression))
            layer.remoteKey = key
            if try !dependencies.isInstalled() {
                layer.remoteChecked = true
                if let hit = try remote.lookup(key) {
                    layer.remoteHit = hit
                    return layer
                }
            }
        }
        layer.fileSet = try FileSet(source: try dependencies.install(), options: FileSetOptions(destination: python.target))
        return layer
    }

    /// A model file at least this big gets a layer of its own when the model is a
    /// directory: a new version that changes one shard rebuilds and pushes one layer.
    static let shardThreshold: Int64 = 16 << 20

    /// The model's layers: one for a file; for a local directory, one per file of at
    /// least `shardThreshold` and one for the rest (config, tokenizer…), in path order.
    func modelLayers(_ model: ModelSettings, compression: Compression, plan: PlanContext) throws -> ([PlannedLayer], FetchedModel) {
        if case .local(let path) = model.source, PathName.isDirectory(path) == true {
            let fetched = try ModelFetcher(store: store).fetch(model.source, pin: model.sha256, inPlace: true)
            modelFetched?(fetched)
            return (try directoryLayers(fetched, destination: model.imagePath, compression: compression), fetched)
        }
        let (layer, fetched) = try modelLayer(model, compression: compression, plan: plan)
        return ([layer], fetched)
    }

    private func directoryLayers(_ fetched: FetchedModel, destination: String, compression: Compression) throws -> [PlannedLayer] {
        let files = fetched.files ?? []
        let shards = files.filter { $0.size >= Self.shardThreshold }
        let small = files.filter { $0.size < Self.shardThreshold }
        var layers: [PlannedLayer] = []
        for shard in shards {
            let target = destination + "/" + shard.relativePath
            var layer = PlannedLayer(kind: .model, destination: destination, compression: compression, description: target,
                                     createdBy: "gantry: model shard \(shard.digest) at \(target)")
            layer.fileSet = try FileSet(source: fetched.path + "/" + shard.relativePath, options: FileSetOptions(destination: target))
            // Keyed by the shard's own digest: the other shards' changes leave it cached.
            layer.builtFrom = FetchedModel(digest: shard.digest, size: shard.size, source: fetched.source, reused: true,
                                           path: fetched.path + "/" + shard.relativePath, localStamp: shard.stamp)
            layers.append(layer)
        }
        if !small.isEmpty {
            let listing = small.map { "\($0.relativePath)\u{0}\($0.digest)\n" }.joined()
            let digest = Digest(sha256: SHA256Hasher.hash(Array(listing.utf8)))
            var layer = PlannedLayer(kind: .model, destination: destination, compression: compression, description: destination + " (small files)",
                                     createdBy: "gantry: model files \(digest) at \(destination)")
            // The shards and hidden files (not in the model's digest) are left out.
            let ignore = [".*", "**/.*"] + shards.map { GlobPattern.escaped($0.relativePath) }
            layer.fileSet = try FileSet(source: fetched.path, options: FileSetOptions(destination: destination, ignore: ignore))
            var record = FetchedModel(digest: digest, size: small.reduce(0) { $0 + $1.size }, source: fetched.source, reused: true,
                                      path: fetched.path)
            record.files = small
            layer.builtFrom = record
            layers.append(layer)
        }
        return layers
    }

    func modelLayer(_ model: ModelSettings, compression: Compression, plan: PlanContext) throws -> (PlannedLayer, FetchedModel) {
        let fetcher = ModelFetcher(store: store)
        let describe = { (digest: Digest) in
            PlannedLayer(kind: .model, destination: model.imagePath, fileSet: nil, compression: compression, description: model.imagePath,
                         createdBy: "gantry: model \(digest) at \(model.imagePath)")
        }
        var remoteKey: String?
        var alreadyFetched: FetchedModel?
        if let remote = plan.remote {
            // Keyed by the model's pin, else by its source and the version the source
            // reports: a fresh agent finds an unchanged model's layer without downloading it.
            var identity = model.sha256.map { "sha256 \($0)" }
            var local = model.sha256.map(store.contains) ?? false
            if identity == nil, let version = try fetcher.currentVersion(of: model.source) {
                identity = "source \(model.source)\n\(version.name)"
                local = version.known != nil
                alreadyFetched = version.known  // the source was just asked: not again
            }
            if let identity {
                let key = RemoteLayerKey.model(identity: identity, destination: model.imagePath, settings: plan.settings(compression))
                remoteKey = key
                if !local, let hit = try remote.lookup(key), let cached = hit.model {
                    let fetched = FetchedModel(digest: cached.digest, size: cached.size, source: model.source.description,
                                               reused: true, path: "", fromLayerCache: true)
                    modelFetched?(fetched)
                    var layer = describe(cached.digest)
                    layer.remoteKey = key
                    layer.remoteHit = hit
                    layer.model = cached
                    return (layer, fetched)
                }
            }
        }
        // A local model is read where it is: copying 1 GiB into the store first would
        // double what the build writes to disk.
        let fetched = try alreadyFetched ?? fetcher.fetch(model.source, pin: model.sha256, inPlace: true)
        modelFetched?(fetched)
        var layer = describe(fetched.digest)
        layer.fileSet = try FileSet(source: fetched.path, options: FileSetOptions(destination: model.imagePath))
        if fetched.localStamp == nil {
            layer.storeBlob = Descriptor(mediaType: "application/octet-stream", digest: fetched.digest, size: fetched.size)
        }
        layer.builtFrom = fetched  // keyed by its digest; checked unchanged after a build
        layer.model = CachedModel(digest: fetched.digest, size: fetched.size)
        if plan.remote != nil {
            layer.remoteKey = remoteKey ?? RemoteLayerKey.model(identity: "sha256 \(fetched.digest)", destination: model.imagePath,
                                                                settings: plan.settings(compression))
            layer.remoteChecked = remoteKey != nil
        }
        return (layer, fetched)
    }

    func appLayer(_ spec: LayerSpec, compression: Compression, plan: PlanContext) throws -> PlannedLayer {
        let owner = try Ownership.parse(spec.ownership)
        let options = FileSetOptions(destination: spec.destination, ignore: spec.ignore, uid: owner.uid,
                                     gid: owner.gid, allowExternalSymlinks: spec.allowExternalSymlinks)
        let fileSet = try FileSet(source: spec.source, options: options)
        let layerCompression = try spec.compression.map(Compression.init(parsing:)) ?? compression
        // The history line names the entry count, known once the build walks the files.
        var layer = PlannedLayer(kind: .app, destination: spec.destination, fileSet: fileSet, compression: layerCompression, description: spec.destination,
                                 createdBy: "gantry: files at \(spec.destination)")
        layer.countsEntriesAt = spec.destination
        // By content (a fresh checkout has new inodes and mtimes), once the store's own cache misses.
        layer.keyedByContent = true
        return layer
    }
}
