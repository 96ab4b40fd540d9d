import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import Diagnostics
import Threads
import DebianPackages
import Fetch

/// Builds a build's new layers (dependencies, model, app), each from the layer
/// cache when its inputs are unchanged. With 4 or more compression threads
/// (`--threads`, default: the cores) layers build side by side, half the threads
/// each way (the model's copy and hashing beside the dependencies' compression);
/// below that one layer's compression already fills the cores (on 2 cores, side by
/// side was 8 % faster for 11 MiB more memory). Lines are reported in image order.
struct LayerJob: Sendable {
    let store: ContentStore
    var plan: Builder.PlanContext
    let cache: LayerCache
    let streams: Streams

    /// The uploads layers start while they are written, one set per repository.
    struct Streams: Sendable {
        var app: LayerStreams?
        var modelImage: LayerStreams?

        func start(_ ingest: BlobIngest, for layer: Builder.PlannedLayer) -> GrowingFile? {
            switch layer.uploadTarget {
            case .app: app?.start(ingest)
            case .modelImage: modelImage?.start(ingest)
            }
        }

        func finish(abandon: Bool) {
            app?.finish(abandon: abandon)
            modelImage?.finish(abandon: abandon)
        }
    }

    /// A layer as built or found, and its key in the registry layer cache when it has one.
    struct Outcome: Sendable {
        var blob: LayerBlob
        var report: LayerReport
        var remoteKey: String?
        /// How many entries the layer's files have, when they were walked.
        var entries: Int? = nil
        /// The model a one-file model layer hashed as it read it (`hashedWhileBuilt`).
        var hashedModel: FetchedModel? = nil
    }

    /// Every layer of `planned`, in order; `report` sees each line in that order.
    /// After a failure the layers already started finish, then the first error is thrown.
    func buildAll(_ planned: [Builder.PlannedLayer], report: (LayerReport) -> Void) throws -> [Outcome] {
        let width = plan.threads >= 4 ? min(planned.count, max(2, plan.threads / 2)) : 1
        guard width > 1 else {
            return try planned.map { layer in
                let result = try build(layer)
                report(result.report)
                return result
            }
        }
        let pool = WorkerPool(threads: width, name: "layer")
        defer { pool.shutdown() }
        var job = self
        job.plan.threads = max(1, plan.threads / width)  // the bytes do not depend on it
        let results = planned.map { _ in Pending<Result<Outcome, any Error>>() }
        for (layer, result) in zip(planned, results) {
            pool.submit { [job] in result.fulfil(Result { try job.build(layer) }) }
        }
        var built: [Outcome] = []
        var firstError: (any Error)?
        for result in results {
            switch result.wait() {
            case .success(let layer):
                if firstError == nil { report(layer.report) }
                built.append(layer)
            case .failure(let error):
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return built
    }

    /// Builds one layer, or takes it from the cache when its inputs are unchanged.
    func build(_ layer: Builder.PlannedLayer) throws -> Outcome {
        let started = Date()
        var remoteKey = layer.remoteKey?.key
        var entries: Int?
        var hashedModel: FetchedModel?
        let report = { (blob: LayerBlob, source: LayerReport.Source) in
            Outcome(blob: blob, report: LayerReport(description: layer.description, blob: blob,
                                                    seconds: Date().timeIntervalSince(started), source: source),
                    remoteKey: remoteKey, entries: entries)
        }
        let fileSet: FileSet
        switch layer.content {
        case .registryCacheHit(let hit): return report(hit.layer, .registryCache)
        case .files(let files): fileSet = files
        case .packages(let installer, let packages):
            return try buildPackages(layer, installer: installer, plan: packages, remoteKey: remoteKey, report: report)
        }
        let model = layer.modelInput
        let unhashed = model?.hashedWhileBuilt
        let settings = plan.settings(layer.compression)
        // A store with no layer records cannot hit: the key comes from the walk that
        // builds the layer (one walk, not two); otherwise it is looked up first.
        var key: String?
        var walked = false  // skipped files are reported by the first walk only
        // A model hashed while built is keyed by its digest, known only after it (and
        // planned so only when no record could hit).
        if cache.mayHit && unhashed == nil {
            walked = true
            let (known, count) = try cache.key(for: fileSet, settings: settings, content: model?.source?.digest)
            if let hit = cache.lookup(known) {
                entries = count
                return report(hit, .cached)
            }
            (key, entries) = (known, count)
        }
        if let remote = plan.remote, layer.remoteKey?.asked != true {
            // An app layer's key hashes every file: only worth it once the store's own cache missed.
            if remoteKey == nil, case .app = layer.origin {
                let (files, count) = try RemoteLayerKey.files(fileSet, settings: settings, reportSkipped: !walked)
                (remoteKey, walked) = (files, true)
                entries = entries ?? count
            }
            if let remoteKey, let hit = try remote.lookup(remoteKey) { return report(hit.layer, .registryCache) }
        }
        // A model reused from the store is read for this layer: check it first.
        if let model { for blob in model.storeBlobs { try store.verify(blob) } }
        var growing: GrowingFile?
        let blob: LayerBlob
        do {
            blob = try store.ingestLayer { ingest in
                growing = streams.start(ingest, for: layer)
                var keyBuilder = key == nil && unhashed == nil ? LayerCache.KeyBuilder(settings: settings, content: model?.source?.digest) : nil
                let modelDigest = try unhashed.map { _ in try BackgroundDigestingSink(next: nil, bufferSize: LayerBuilder.hashBufferSize) }
                var modelEntries: [FileEntry] = []
                let blob = try LayerBuilder.build(fileSet, settings: settings,
                                                  into: growing.map { GrowthReportingSink(next: ingest, file: $0) } ?? ingest,
                                                  reportSkipped: !walked, fileBytes: modelDigest) { entry in
                    keyBuilder?.add(entry)
                    if unhashed != nil { modelEntries.append(entry) }
                }
                if let built = keyBuilder?.finish() { (key, entries) = (built.key, built.entries) }
                try model?.source?.checkUnchanged()
                if let unhashed, let modelDigest {
                    let fetched = try unhashed.fetched(digest: Digest(sha256: modelDigest.finish()))
                    var keyBuilder = LayerCache.KeyBuilder(settings: settings, content: fetched.digest)
                    modelEntries.forEach { keyBuilder.add($0) }
                    let built = keyBuilder.finish()
                    (key, entries) = (built.key, built.entries)
                    hashedModel = fetched
                }
                return blob
            }
        } catch {
            growing?.fail()
            throw error
        }
        // Stored first, then the upload may close: the registry never gets a layer the store lost.
        growing?.complete(size: blob.descriptor.size, digest: blob.descriptor.digest.description)
        if let key { cache.remember(blob, for: key) }
        var outcome = report(blob, .built)
        outcome.hashedModel = hashedModel
        return outcome
    }

    /// The OS packages layer: keyed by the chosen set, so a hit downloads no .deb.
    private func buildPackages(_ layer: Builder.PlannedLayer, installer: PackageInstaller, plan packages: PackageInstaller.Plan,
                               remoteKey: String?, report: (LayerBlob, LayerReport.Source) -> Outcome) throws -> Outcome {
        let settings = plan.settings(layer.compression)
        let key = "packages-" + RemoteLayerKey.osPackages(packages.layerKey, settings: settings)
        if cache.enabled, let hit = cache.lookup(key) { return report(hit, .cached) }
        if let remote = plan.remote, let remoteKey, let hit = try remote.lookup(remoteKey) { return report(hit.layer, .registryCache) }
        var growing: GrowingFile?
        let blob: LayerBlob
        do {
            blob = try store.ingestLayer { ingest in
                growing = streams.start(ingest, for: layer)
                return try Builder.writePackagesLayer(installer, packages, settings: settings, store: store,
                                                      into: growing.map { GrowthReportingSink(next: ingest, file: $0) } ?? ingest)
            }
        } catch {
            growing?.fail()
            throw error
        }
        growing?.complete(size: blob.descriptor.size, digest: blob.descriptor.digest.description)
        cache.remember(blob, for: key)
        return report(blob, .built)
    }
}
