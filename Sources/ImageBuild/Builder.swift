import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import Registry
import Fetch
import Images
import Recipes
import Diagnostics
import Threads
import SystemSupport
import DebianPackages

/// One line of the build report.
public struct LayerReport: Sendable {
    public var description: String
    public var blob: LayerBlob
    public var seconds: Double
    public var source: Source

    /// `registryCache`: found in the `--cache-repo` layer cache, nothing built or downloaded.
    public enum Source: Sendable { case base, built, cached, registryCache }
}

public struct BuildResult: Sendable {
    /// One image per platform, in the order the platforms were asked for.
    public var images: [AssembledImage]
    /// What the build's names point at: the image, or the index of a multi-platform build.
    public var stored: StoredImage
    public var layers: [LayerReport]
    /// With `--cache-repo`: layers the registry layer cache does not have yet (to
    /// record once the image is pushed; see `RegistryLayerCache.saveAll`).
    public var cacheEntries: [LayerCacheEntry] = []

    /// What each image is made of (in `images`' order), for its SBOM and provenance.
    public var parts: [ImageParts] = []
    /// The models, in the request's order, each with its settings.
    public var models: [BuiltModel] = []
    /// The model, when the build has exactly one.
    public var model: FetchedModel? { models.count == 1 ? models[0].fetched : nil }
    /// With `model.image`: the model's own image (an index for several platforms).
    public var modelImage: StoredImage?

    /// The manifest, or the index: what is tagged, pushed and printed.
    public var root: Descriptor { stored.root }
    public var isIndex: Bool { if case .index = stored { return true } else { return false } }
}

/// A model of a build: as the request asked for it, and as fetched.
public struct BuiltModel: Sendable {
    public var settings: ModelSettings
    public var fetched: FetchedModel
}

/// One image of a build, as its SBOM sees it: the base it stands on, each new
/// layer's role and destination, and where the dependencies layer's packages were
/// installed (nil when the layer came from the registry cache and pip never ran here).
public struct ImageParts: Sendable {
    public struct NewLayer: Sendable {
        public enum Role: String, Sendable { case packages, dependencies, model, app }
        public var descriptor: Descriptor
        public var role: Role
        public var destination: String
    }

    public var platform: Platform
    public var base: BaseImage
    public var layers: [NewLayer]
    public var pythonDirectory: String?
    /// OS packages the build installed on the base (they replace the base's of the same name).
    public var osPackages: [ResolvedPackage] = []
}

/// Runs a build: base → new layers → config and manifest → outputs. With several
/// platforms, one image per platform (each on that platform's base, with its own
/// Python dependencies layer; the model and app layers built once and shared) and
/// an OCI index over them.
public struct Builder {
    public static let lastBuildTag = "gantry:last-build"
    /// The model image of the last build that made one.
    public static let lastModelTag = "gantry:last-build-model"

    public let store: ContentStore

    public init(store: ContentStore) { self.store = store }

    /// Called with the model once it is in the store (for the CLI to print its digest).
    public var modelFetched: ((FetchedModel) -> Void)?
    /// Hears how far a model that is a set of files has come (see `SetProgress`).
    public var modelSetProgress: (@Sendable (String, SetProgress) -> Void)?

    /// One platform's part of a build.
    struct Target {
        var platform: Platform
        var base: BaseImage
        /// Index of its Python dependencies layer in the planned layers.
        var pythonLayer: Int?
        /// Index of its OS packages layer in the planned layers.
        var packagesLayer: Int?
    }

    public func build(_ request: BuildRequest, report: (LayerReport) -> Void) throws -> BuildResult {
        try request.validate()
        // --locked: the lock's pins, checked against the recipe before any work.
        let request = try request.lock.map { try LockedInputs.apply($0.file, to: request, lockPath: $0.path) } ?? request
        let sinks = try request.outputs.map { try $0.sink() }
        for sink in sinks { try sink.checkWritable() }
        if let digestFile = request.digestFile { try OutputPath.checkParentExists(of: digestFile, what: "--digest-file") }

        let mtime = request.sourceDateEpoch ?? 0
        let cache = LayerCache(store: store, enabled: request.useCache)
        let remote = request.useCache ? request.cacheRepository.map { RegistryLayerCache(repository: $0, settings: request.registry, store: store) } : nil
        let plan = PlanContext(mtime: mtime, threads: request.threads, remote: remote,
                               hashModelsWhileBuilding: remote == nil && !cache.mayHit)
        var (targets, baseReports) = try resolveBases(request, mtime: mtime, cache: cache)
        if let lock = request.lock {
            try LockedInputs.checkBases(targets.map { ($0.platform, $0.base) }, location: request.base, lock: lock.file, lockPath: lock.path)
        }
        let facts = BaseFacts(store: store, registry: request.registry)
        for target in targets { try facts.checkEntryNames(of: target.base) }
        baseReports.forEach(report)
        let multiPlatform = targets.count > 1

        // Least-changing first: dependencies, then the model, then the app, so an
        // app change rebuilds and re-pushes only the top layer. Every platform's
        // dependencies are installed before anything is built: one that cannot
        // resolve fails the build before a byte goes anywhere.
        var settings = request.settings
        var planned: [PlannedLayer] = []
        if let packages = request.packages {
            for index in targets.indices {
                var layer = try packagesLayer(packages, platform: targets[index].platform, base: targets[index].base, request: request,
                                              facts: facts, plan: plan)
                if multiPlatform { layer.description += " (\(targets[index].platform))" }
                targets[index].packagesLayer = planned.count
                planned.append(layer)
            }
        }
        if let python = request.python {
            // Each platform's C-library probe and pip run are independent, and pip
            // mostly waits on the package index: side by side, not one after another.
            let store = self.store, registry = request.registry, compression = request.compression, lock = request.lock?.file
            let found = Locked<[Int: PlannedLayer]>([:])
            let work = targets.indices.map { ($0, targets[$0].platform, targets[$0].base) }
            try WorkerPool.forEach(work, width: work.count, name: "python") { index, platform, base in
                let library = python.platformTag == nil ? try BaseFacts(store: store, registry: registry).cLibrary(in: base) : nil
                var settings = python
                settings.locked = lock.map { $0.platforms[platform.description]?.python ?? [] }
                var layer = try Builder.pythonLayer(settings, platform: platform, cLibrary: library, compression: compression,
                                                    plan: plan, store: store)
                if multiPlatform { layer.description += " (\(platform))" }
                found.withLock { $0[index] = layer }
            }
            for index in targets.indices {
                guard let layer = found.value[index] else { throw Failure(.internalFailure, "no dependencies layer planned for \(targets[index].platform); this is a bug in gantry") }
                targets[index].pythonLayer = planned.count
                planned.append(layer)
            }
            let inherited = (targets[0].base.config?.config?.env ?? []).first { $0.hasPrefix("PYTHONPATH=") }.map { String($0.dropFirst(11)) }
            let path = [python.target, inherited].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
            if !settings.env.contains(where: { $0.name == "PYTHONPATH" }) {
                settings.env.insert(EnvironmentVariable(name: "PYTHONPATH", value: path), at: 0)
            }
        }
        let sharedFrom = planned.count
        // Each model with its layers; a model hashed while its layer is built has its
        // fetched model once the layers are built.
        var plannedModels: [(settings: ModelSettings, model: PlannedModel, layers: Range<Int>)] = []
        var modelImageLayers: [Int] = []
        if let model = request.model, model.image != nil {
            // The model in an image of its own, at its root: the app image neither holds
            // it nor records its digest, so a new model leaves the app image as it was.
            var inImage = model
            inImage.destination = model.fileInModelImage
            let (layers, planning) = try modelLayers(inImage, compression: request.compression, plan: plan)
            plannedModels.append((model, planning, planned.count..<planned.count + layers.count))
            for var layer in layers {
                layer.uploadTarget = .modelImage
                layer.description = "model image " + layer.description
                modelImageLayers.append(planned.count)
                planned.append(layer)
            }
        } else {
            try ModelSettings.checkApart(request.models)
            for model in request.models {
                let (layers, planning) = try modelLayers(model, compression: request.compression, plan: plan)
                plannedModels.append((model, planning, planned.count..<planned.count + layers.count))
                planned += layers
            }
        }
        planned += try request.layers.map { try appLayer($0, compression: request.compression, plan: plan) }

        // Overlap the build with the push: uploads run while later layers build.
        let streamsTo = { (target: Reference?) in
            target.flatMap { request.registry.upload.monolithicOnly ? nil : LayerStreams(store: store, reference: $0, settings: request.registry) }
        }
        let streams = LayerJob.Streams(app: streamsTo(request.pushTarget),
                                       modelImage: modelImageLayers.isEmpty ? nil : streamsTo(request.modelPushTarget))
        var finished = false
        defer { streams.finish(abandon: !finished) }
        var built: [BuiltLayer] = []
        var reports = baseReports
        var cacheEntries: [LayerCacheEntry] = []
        let job = LayerJob(store: store, plan: plan, cache: cache, streams: streams)
        let outcomes = try job.buildAll(planned, report: report)
        for (layer, outcome) in zip(planned, outcomes) {
            let createdBy = try outcome.hashedModel.flatMap { layer.modelInput?.historyOnceHashed?($0.digest) }
                ?? layer.history(entries: outcome.entries)
            built.append(BuiltLayer(blob: outcome.blob, createdBy: createdBy))
            reports.append(outcome.report)
            if let key = outcome.remoteKey, outcome.report.source != .registryCache {
                cacheEntries.append(LayerCacheEntry(key: key, layer: outcome.blob, model: layer.modelInput?.cacheRecord))
            }
        }

        let builtModels = try plannedModels.map { planned in
            switch planned.model {
            case .fetched(let fetched):
                return BuiltModel(settings: planned.settings, fetched: fetched)
            case .hashedByLayers(let finish):
                let fetched = try finish(planned.layers.compactMap { outcomes[$0].hashedModel })
                modelFetched?(fetched)
                return BuiltModel(settings: planned.settings, fetched: fetched)
            }
        }
        if request.model?.image == nil {
            // One model keeps the labels it always had; several are told apart by name.
            for built in builtModels {
                let (digest, source) = builtModels.count == 1 ? (ModelLabel.digest, ModelLabel.source)
                    : (ModelLabel.digest(named: built.settings.name), ModelLabel.source(named: built.settings.name))
                settings.labels[digest] = settings.labels[digest] ?? built.fetched.digest.description
                settings.labels[source] = settings.labels[source] ?? built.fetched.source
            }
        }
        let created = Assembler.timestamp(mtime)
        settings.labels = defaultLabels(request: request, created: created).merging(settings.labels) { $1 }
        let assembler = Assembler(store: store)
        let shared = Array(sharedFrom..<planned.count).filter { !modelImageLayers.contains($0) }
        let images = try targets.map { target in
            let own = [target.packagesLayer, target.pythonLayer].compactMap { $0 }.map { built[$0] }
            return try assembler.assemble(base: target.base, layers: own + shared.map { built[$0] }, settings: settings,
                                          platform: target.platform, created: created)
        }
        let stored = multiPlatform ? try assembler.index(of: images) : images[0].stored
        var modelImage: StoredImage?
        if !modelImageLayers.isEmpty, let model = builtModels.first {
            let labels = Self.modelImageLabels(model.settings, fetched: model.fetched, created: created)
            var modelSettings = ImageSettings()
            modelSettings.labels = labels
            let modelImages = try targets.map { target in
                try assembler.assemble(base: .scratch, layers: modelImageLayers.map { built[$0] }, settings: modelSettings,
                                       platform: target.platform, created: created, annotations: labels)
            }
            modelImage = multiPlatform ? try assembler.index(of: modelImages) : modelImages[0].stored
            try StoreSink(store: store, name: Builder.lastModelTag).write(modelImage!, from: store)
        }
        let parts = targets.map { target in
            let own = [target.packagesLayer, target.pythonLayer].compactMap { $0 }
            let layers = (own + shared).map { index in
                ImageParts.NewLayer(descriptor: built[index].blob.descriptor, role: planned[index].role,
                                    destination: planned[index].destination)
            }
            let python = target.pythonLayer.flatMap { planned[$0].fileSet?.source }
            var parts = ImageParts(platform: target.platform, base: target.base, layers: layers, pythonDirectory: python)
            if let index = target.packagesLayer, case .osPackages(let packages) = planned[index].origin { parts.osPackages = packages }
            return parts
        }
        // Files and archives need every byte: base layers left in the registry come now.
        if !sinks.isEmpty {
            let backfill = LayerBackfill(store: store, settings: request.registry, observer: request.transferObserver)
            for image in images { try backfill.fetchMissing(of: image.manifest) }
            for target in targets { try facts.checkEntryNames(of: target.base) }
        }
        let names = [Builder.lastBuildTag] + [request.tag].compactMap { $0 }
        for sink in names.map({ StoreSink(store: store, name: $0) as any ImageSink }) + sinks {
            try sink.write(Self.narrowed(stored, for: sink, to: request.archivePlatform), from: store)
        }
        if let digestFile = request.digestFile {
            try AtomicFile.write(Array("\(stored.root.digest)\n".utf8), to: digestFile)
        }
        finished = true
        return BuildResult(images: images, stored: stored, layers: reports, cacheEntries: cacheEntries, parts: parts, models: builtModels,
                           modelImage: modelImage)
    }

    /// What `packages:` would install on each platform's base, resolved as a build
    /// would (indexes fetched and verified), without building: `gantry packages`.
    public func planPackages(_ request: BuildRequest) throws -> [(platform: Platform, packages: [ResolvedPackage])] {
        try request.validate()
        guard let selection = request.packages else {
            throw Failure(.usage, "the recipe has no 'packages:' section; add one with 'install:' (e.g. [libgomp1, curl])")
        }
        let cache = LayerCache(store: store, enabled: request.useCache)
        let (targets, _) = try resolveBases(request, mtime: request.sourceDateEpoch ?? 0, cache: cache)
        let facts = BaseFacts(store: store, registry: request.registry)
        let plan = PlanContext(mtime: request.sourceDateEpoch ?? 0, threads: request.threads, remote: nil)
        return try targets.map { target in
            let layer = try packagesLayer(selection, platform: target.platform, base: target.base, request: request, facts: facts, plan: plan)
            guard case .osPackages(let packages) = layer.origin else { return (target.platform, []) }
            return (target.platform, packages)
        }
    }

    /// The base for each platform of the build, from the source its location names:
    /// the platforms asked for, else the base's own (a single image), else this machine's.
    func resolveBases(_ request: BuildRequest, mtime: Int64, cache: LayerCache) throws -> ([Target], [LayerReport]) {
        let start = Date()
        let source = try BaseSources.source(for: request, store: store, cache: cache, mtime: mtime)
        var targets: [Target] = []
        if request.platforms.count > 1, source is RootfsSource {
            throw Failure(.usage, "\(source.description) is a root filesystem for one platform; a build for \(request.platforms.map(\.description).joined(separator: ", ")) needs a base image with those platforms (an OCI index: oci:DIR, oci-archive:FILE or a registry image)")
        }
        // One rule for one platform and for several: a single image (not an index) is
        // one platform, and it must be the one asked for; a root filesystem says
        // nothing of its platform, so its C library's ELF header is asked.
        for wanted in request.platforms.isEmpty ? [nil] : request.platforms.map(Optional.some) {
            let base = try source.image(for: wanted ?? Platform.host)
            if let config = base.config {
                if let wanted, !config.platform.satisfies(wanted) {
                    throw Failure(.missingInput, "\(source.description) has no image for \(wanted) (it has: \(config.platform)); choose a base with \(request.platforms.count > 1 ? "every platform of the build" : "that platform, or another --platform")")
                }
                // The base's own description wins when it matches: it may name a variant (arm64/v8) the request left out.
                targets.append(Target(platform: config.platform, base: base))
            } else {
                let platform = wanted ?? Platform.host
                if !base.layers.isEmpty { try BaseFacts(store: store, registry: request.registry).checkMachine(of: base, for: platform, source: source.description) }
                targets.append(Target(platform: platform, base: base))
            }
        }
        let kind: LayerReport.Source
        if let rootfs = source as? RootfsSource { kind = rootfs.fromCache ? .cached : .built } else { kind = .base }
        let seconds = Date().timeIntervalSince(start)
        let reports = targets.flatMap { target in
            target.base.layers.map {
                LayerReport(description: targets.count > 1 ? "base (\(target.platform))" : "base", blob: $0, seconds: seconds, source: kind)
            }
        }
        return (targets, reports)
    }

    /// What a model image says about its model: the OCI title, source and licenses
    /// annotations and gantry's own (digest, source, size, and the path the app
    /// reads it at), as config labels and manifest annotations alike.
    static func modelImageLabels(_ model: ModelSettings, fetched: FetchedModel, created: String) -> [String: String] {
        var labels = [
            AnnotationKey.created: created,
            "org.opencontainers.image.title": PathName.lastComponent(of: model.imagePath),
            "org.opencontainers.image.source": fetched.source,
            ModelLabel.digest: fetched.digest.description, ModelLabel.source: fetched.source,
            ModelLabel.size: String(fetched.size), ModelLabel.path: model.imagePath,
        ]
        if let license = model.license { labels["org.opencontainers.image.licenses"] = license }
        return labels
    }

    /// A docker-archive holds one image: a multi-platform build writes the one
    /// `--archive-platform` names there (checked by `BuildRequest.validate`).
    private static func narrowed(_ stored: StoredImage, for sink: any ImageSink, to platform: Platform?) -> StoredImage {
        guard case .index(let index) = stored, let archive = sink as? ArchiveSink, case .docker = archive.format,
              let platform, let image = index.manifests.first(where: { $0.config.platform.satisfies(platform) }) else { return stored }
        return .manifest(image)
    }

    /// org.opencontainers.image.created, plus source/revision from git when known.
    private func defaultLabels(request: BuildRequest, created: String) -> [String: String] {
        var labels = [AnnotationKey.created: created]
        if let directory = request.contextDirectory {
            let git = GitMetadata.read(directory: directory)
            if let source = git.source { labels[AnnotationKey.source] = source }
            if let revision = git.revision { labels[AnnotationKey.revision] = revision }
        }
        return labels
    }
}
