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
    /// What every layer of one build shares.
    struct PlanContext: Sendable {
        var mtime: Int64
        var threads: Int
        var remote: RegistryLayerCache?
        /// Neither the store's layer cache nor a registry's can hit: a local model
        /// file is hashed by its layer's own read of it, not by a read before.
        var hashModelsWhileBuilding = false

        func settings(_ compression: Compression) -> LayerSettings {
            LayerSettings(compression: compression, mtime: mtime, threads: threads)
        }
    }

    static func pythonLayer(_ python: PythonSettings, platform: Platform, cLibrary: CLibrary?, compression: Compression,
                            plan: PlanContext, store: ContentStore) throws -> PlannedLayer {
        let dependencies = PythonDependencies(store: store, settings: python, platform: platform, cLibrary: cLibrary)
        let describe = { (content: PlannedLayer.Content, remoteKey: PlannedLayer.RemoteKey?) in
            PlannedLayer(origin: .dependencies, destination: python.target, content: content, compression: compression,
                         description: python.target,
                         createdBy: "gantry: python dependencies from \(PathName.lastComponent(of: python.requirements)) at \(python.target) for \(dependencies.platformTags[0])",
                         remoteKey: remoteKey)
        }
        var remoteKey: PlannedLayer.RemoteKey?
        if let remote = plan.remote {
            // Keyed by what pip is asked for, so a fresh agent finds it without running pip.
            let key = RemoteLayerKey.python(requirements: try dependencies.requirements(), platformTag: dependencies.platformTag,
                                            pythonVersion: python.version, target: python.target, settings: plan.settings(compression))
            remoteKey = PlannedLayer.RemoteKey(key: key, asked: false)
            if try !dependencies.isInstalled() {
                remoteKey?.asked = true
                if let hit = try remote.lookup(key) { return describe(.registryCacheHit(hit), remoteKey) }
            }
        }
        let fileSet = try FileSet(source: try dependencies.install(), options: FileSetOptions(destination: python.target))
        return describe(.files(fileSet), remoteKey)
    }

    /// A model file at least this big gets a layer of its own when the model is a
    /// directory: a new version that changes one shard rebuilds and pushes one layer.
    static let shardThreshold: Int64 = 16 << 20

    /// The model's layers: one for a file; for a local directory, one per file of at
    /// least `shardThreshold` and one for the rest (config, tokenizer…), in path order.
    /// In a build no cache can hit, local files no record knows are hashed by their
    /// layers as they are built (`PlannedModel.hashedByLayers`).
    func modelLayers(_ model: ModelSettings, compression: Compression, plan: PlanContext) throws -> ([PlannedLayer], PlannedModel) {
        let isLocalDirectory = if case .local(let path) = model.source { PathName.isDirectory(path) == true } else { false }
        if isLocalDirectory || model.source.isPrefix {
            var fetcher = ModelFetcher(store: store)
            fetcher.selecting = try model.fileSelection()
            if let progress = modelSetProgress {
                let source = model.source.description
                fetcher.setProgress = { progress(source, $0) }
            }
            if model.source.isPrefix, let remote = plan.remote {
                let (layers, fetched) = try cachedSetLayers(model, fetcher: fetcher, compression: compression, plan: plan, remote: remote)
                return (layers, .fetched(fetched))
            }
            if case .local(let path) = model.source, plan.hashModelsWhileBuilding, model.sha256 == nil {
                return try coldDirectoryLayers(path, model: model, fetcher: fetcher, compression: compression)
            }
            let fetched = try fetcher.fetch(model.source, pin: model.sha256, inPlace: true)
            modelFetched?(fetched)
            return (try directoryLayers(fetched, destination: model.imagePath, compression: compression), .fetched(fetched))
        }
        return try modelLayer(model, compression: compression, plan: plan)
    }

    private func directoryLayers(_ fetched: FetchedModel, destination: String, compression: Compression) throws -> [PlannedLayer] {
        let files = fetched.files ?? []
        let shards = files.filter { $0.size >= Self.shardThreshold }
        // Without shards the small files are all of them: the same array, not a copy (a set may have 50,000).
        let small = shards.isEmpty ? files : files.filter { $0.size < Self.shardThreshold }
        let directory = ModelDirectory(fetched)
        var layers = try shards.map { try shardLayer($0, in: directory, destination: destination, compression: compression, cacheRecord: nil) }
        if !small.isEmpty {
            layers.append(try smallFilesLayer(small, in: directory, leaving: shards.map(\.relativePath), destination: destination,
                                              compression: compression, cacheRecord: nil))
        }
        return layers
    }

    /// A file of 16 MiB or more, in a layer of its own, keyed by the file's own
    /// digest: the other files' changes leave it cached.
    func shardLayer(_ shard: FetchedModel.ModelFile, in directory: ModelDirectory, destination: String,
                    compression: Compression, cacheRecord: CachedModel?) throws -> PlannedLayer {
        let target = destination + "/" + shard.relativePath
        let source = FetchedModel(digest: shard.digest, size: shard.size, source: directory.source, reused: true,
                                  path: directory.path + "/" + shard.relativePath, localStamp: shard.stamp)
        let fileSet = try FileSet(source: source.path, options: FileSetOptions(destination: target))
        let input = PlannedLayer.ModelInput(source: source, files: [shard], cacheRecord: cacheRecord)
        return PlannedLayer(origin: .model(input), destination: destination, content: .files(fileSet),
                            compression: compression, description: target, createdBy: Self.shardHistory(shard, target: target))
    }

    /// The set's small files (config, tokenizer, labels) in one layer.
    func smallFilesLayer(_ small: [FetchedModel.ModelFile], in directory: ModelDirectory, leaving shards: [String],
                         destination: String, compression: Compression, cacheRecord: CachedModel?) throws -> PlannedLayer {
        // The shards, hidden files and files include/exclude left out (none in the model's digest) are left out.
        let ignore = [".*", "**/.*"] + (shards + directory.leftOut).map(GlobPattern.escaped)
        let fileSet = try FileSet(source: directory.path, options: FileSetOptions(destination: destination, ignore: ignore))
        var source = FetchedModel(digest: Self.smallFilesDigest(small), size: small.reduce(0) { $0 + $1.size }, source: directory.source,
                                  reused: true, path: directory.path)
        source.files = small
        let input = PlannedLayer.ModelInput(source: source, files: small, cacheRecord: cacheRecord)
        return PlannedLayer(origin: .model(input), destination: destination, content: .files(fileSet),
                            compression: compression, description: destination + " (small files)",
                            createdBy: Self.smallFilesHistory(small, destination: destination))
    }

    static func shardHistory(_ shard: FetchedModel.ModelFile, target: String) -> String {
        shardHistory(shard.digest, target: target)
    }

    static func shardHistory(_ digest: Digest, target: String) -> String {
        "gantry: model shard \(digest) at \(target)"
    }

    private static func smallFilesDigest(_ small: [FetchedModel.ModelFile]) -> Digest {
        Digest(sha256: SHA256Hasher.hash(Array(small.map { "\($0.relativePath)\u{0}\($0.digest)\n" }.joined().utf8)))
    }

    private static func smallFilesHistory(_ small: [FetchedModel.ModelFile], destination: String) -> String {
        "gantry: model files \(smallFilesDigest(small)) at \(destination)"
    }

    /// A prefix with `--cache-repo`: each layer's key comes from the listing (each
    /// file's source, ETag and size), so a fresh agent finds the unchanged layers
    /// before downloading anything, and fetches only the files of the layers the
    /// cache lacks. A shard's entry records its digest, the small files' entry each
    /// small file's, which is all the set's digest needs.
    private func cachedSetLayers(_ model: ModelSettings, fetcher: ModelFetcher, compression: Compression, plan: PlanContext,
                                 remote: RegistryLayerCache) throws -> ([PlannedLayer], FetchedModel) {
        let listed = try fetcher.listSet(model.source)
        let destination = model.imagePath
        let settings = plan.settings(compression)
        struct Group { var files: [ListedBlob]; var key: String?; var hit: RegistryLayerCache.Hit? }
        var groups = listed.files.filter { $0.size >= Self.shardThreshold }.map { shard in
            Group(files: [shard], key: listed.identity(of: [shard]).map {
                RemoteLayerKey.model(identity: $0, destination: destination + "/" + shard.name, settings: settings)
            })
        }
        let small = listed.files.filter { $0.size < Self.shardThreshold }
        if !small.isEmpty {
            groups.append(Group(files: small, key: listed.identity(of: small).map {
                RemoteLayerKey.model(identity: $0, destination: destination, settings: settings)
            }))
        }
        // What the cache knows, file by file; an entry that does not name exactly these files is a miss.
        var known: [String: FetchedModel.ModelFile] = [:]
        for index in groups.indices {
            guard let key = groups[index].key, let hit = try remote.lookup(key), let model = hit.model else { continue }
            let names = groups[index].files.map(\.name)
            let files = model.files ?? [FetchedModel.ModelFile(relativePath: names[0], digest: model.digest, size: model.size, stamp: nil)]
            guard files.map(\.relativePath) == names else { continue }
            files.forEach { known[$0.relativePath] = $0 }
            groups[index].hit = hit
        }
        let fetched = try fetcher.fetchSet(listed, pin: model.sha256, known: known)
        modelFetched?(fetched)
        let byName = Dictionary(uniqueKeysWithValues: (fetched.files ?? []).map { ($0.relativePath, $0) })
        var layers: [PlannedLayer] = []
        for group in groups {
            let files = try group.files.map { blob in
                guard let file = byName[blob.name] else { throw Failure(.internalFailure, "model file \(blob.name) has no digest; this is a bug in gantry") }
                return file
            }
            let isShard = group.files.count == 1 && files[0].size >= Self.shardThreshold
            var layer: PlannedLayer
            if let hit = group.hit {
                let target = isShard ? destination + "/" + files[0].relativePath : destination
                layer = PlannedLayer(origin: .model(.init(cacheRecord: hit.model)), destination: destination, content: .registryCacheHit(hit),
                                     compression: compression, description: isShard ? target : destination + " (small files)",
                                     createdBy: isShard ? Self.shardHistory(files[0], target: target) : Self.smallFilesHistory(files, destination: destination))
            } else if isShard {
                layer = try shardLayer(files[0], in: ModelDirectory(fetched), destination: destination, compression: compression,
                                       cacheRecord: CachedModel(digest: files[0].digest, size: files[0].size))
            } else {
                let shards = (fetched.files ?? []).filter { $0.size >= Self.shardThreshold }
                let record = CachedModel(digest: Self.smallFilesDigest(files), size: files.reduce(0) { $0 + $1.size }, files: files)
                layer = try smallFilesLayer(files, in: ModelDirectory(fetched), leaving: shards.map(\.relativePath), destination: destination,
                                            compression: compression, cacheRecord: record)
            }
            layer.remoteKey = group.key.map { PlannedLayer.RemoteKey(key: $0, asked: true) }
            layers.append(layer)
        }
        return (layers, fetched)
    }

    func modelLayer(_ model: ModelSettings, compression: Compression, plan: PlanContext) throws -> ([PlannedLayer], PlannedModel) {
        let fetcher = ModelFetcher(store: store)
        let describe = { (digest: Digest?, input: PlannedLayer.ModelInput, content: PlannedLayer.Content) in
            PlannedLayer(origin: .model(input), destination: model.imagePath, content: content, compression: compression,
                         description: model.imagePath,
                         createdBy: digest.map { PlannedLayer.modelHistory($0, at: model.imagePath) } ?? "")
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
                    var layer = describe(cached.digest, .init(cacheRecord: cached), .registryCacheHit(hit))
                    layer.remoteKey = PlannedLayer.RemoteKey(key: key, asked: true)
                    return ([layer], .fetched(fetched))
                }
            }
        }
        // A local model is read where it is: copying 1 GiB into the store first would
        // double what the build writes to disk. Unpinned and with nothing to look up
        // by its digest, it is hashed by the layer's read, not by a read of its own.
        if plan.hashModelsWhileBuilding, model.sha256 == nil, let unhashed = try fetcher.unhashedLocalFile(model.source) {
            let fileSet = try FileSet(source: unhashed.path, options: FileSetOptions(destination: model.imagePath))
            let path = model.imagePath
            let input = PlannedLayer.ModelInput(hashedWhileBuilt: unhashed, historyOnceHashed: { PlannedLayer.modelHistory($0, at: path) })
            return ([describe(nil, input, .files(fileSet))], .hashedByLayers { hashed in
                guard hashed.count == 1 else { throw Failure(.internalFailure, "model \(unhashed.path) was hashed by \(hashed.count) layers; this is a bug in gantry") }
                return hashed[0]
            })
        }
        let fetched = try alreadyFetched ?? fetcher.fetch(model.source, pin: model.sha256, inPlace: true)
        modelFetched?(fetched)
        let fileSet = try FileSet(source: fetched.path, options: FileSetOptions(destination: model.imagePath))
        // Keyed by its digest; a local model is checked unchanged after a build, a downloaded one verified before.
        let input = PlannedLayer.ModelInput(
            source: fetched,
            files: [FetchedModel.ModelFile(relativePath: PathName.lastComponent(of: model.imagePath), digest: fetched.digest,
                                           size: fetched.size, stamp: fetched.localStamp)],
            cacheRecord: CachedModel(digest: fetched.digest, size: fetched.size))
        var layer = describe(fetched.digest, input, .files(fileSet))
        if plan.remote != nil {
            let key = remoteKey ?? RemoteLayerKey.model(identity: "sha256 \(fetched.digest)", destination: model.imagePath,
                                                        settings: plan.settings(compression))
            layer.remoteKey = PlannedLayer.RemoteKey(key: key, asked: remoteKey != nil)
        }
        return ([layer], .fetched(fetched))
    }

    func appLayer(_ spec: LayerSpec, compression: Compression, plan: PlanContext) throws -> PlannedLayer {
        let owner = try Ownership.parse(spec.ownership)
        let options = FileSetOptions(destination: spec.destination, ignore: spec.ignore, uid: owner.uid,
                                     gid: owner.gid, allowExternalSymlinks: spec.allowExternalSymlinks,
                                     fileMode: try spec.mode.map { try InputRules.fileMode($0).bits })
        let fileSet = try FileSet(source: spec.source, options: options)
        let layerCompression = try spec.compression.map(Compression.init(parsing:)) ?? compression
        // The history line names the entry count, known once the build walks the files.
        return PlannedLayer(origin: .app, destination: spec.destination, content: .files(fileSet), compression: layerCompression,
                            description: spec.destination, createdBy: "gantry: files at \(spec.destination)")
    }
}
