import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import Registry
import Fetch
import Images
import Diagnostics

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
    public var image: AssembledImage
    public var layers: [LayerReport]
    /// With `--cache-repo`: layers the registry layer cache does not have yet (to
    /// record once the image is pushed; see `RegistryLayerCache.saveAll`).
    public var cacheEntries: [LayerCacheEntry] = []
}

/// Runs a build: base → new layers → config and manifest → outputs.
public struct Builder {
    public static let lastBuildTag = "gantry:last-build"

    public let store: ContentStore

    public init(store: ContentStore) { self.store = store }

    /// Called with the model once it is in the store (for the CLI to print its digest).
    public var modelFetched: ((FetchedModel) -> Void)?

    public func build(_ request: BuildRequest, report: (LayerReport) -> Void) throws -> BuildResult {
        try request.validate()
        let sinks = try request.outputs.map { try $0.sink() }
        for sink in sinks { try sink.checkWritable() }
        if let digestFile = request.digestFile { try OutputPath.checkParentExists(of: digestFile, what: "--digest-file") }

        let mtime = request.sourceDateEpoch ?? 0
        let cache = LayerCache(store: store, enabled: request.useCache)
        let remote = request.useCache ? request.cacheRepository.map { RegistryLayerCache(repository: $0, settings: request.registry, store: store) } : nil
        let plan = PlanContext(mtime: mtime, threads: request.threads, remote: remote)
        let (base, baseReports) = try resolveBase(request, mtime: mtime, cache: cache)
        baseReports.forEach(report)
        let platform = request.platform ?? base.config?.platform ?? Platform.host

        // Least-changing first: dependencies, then the model, then the app, so an
        // app change rebuilds and re-pushes only the top layer.
        var settings = request.settings
        var planned: [PlannedLayer] = []
        if let python = request.python {
            planned.append(try pythonLayer(python, platform: platform, compression: request.compression, plan: plan))
            let inherited = (base.config?.config?.env ?? []).first { $0.hasPrefix("PYTHONPATH=") }.map { String($0.dropFirst(11)) }
            let path = [python.target, inherited].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
            if !settings.env.contains(where: { $0.name == "PYTHONPATH" }) {
                settings.env.insert(EnvironmentVariable(name: "PYTHONPATH", value: path), at: 0)
            }
        }
        if let model = request.model {
            let (layer, fetched) = try modelLayer(model, compression: request.compression, plan: plan)
            planned.append(layer)
            settings.labels[ModelLabel.digest] = settings.labels[ModelLabel.digest] ?? fetched.digest.description
            settings.labels[ModelLabel.source] = settings.labels[ModelLabel.source] ?? fetched.source
        }
        planned += try request.layers.map { try appLayer($0, compression: request.compression, plan: plan) }

        // Overlap the build with the push: uploads run while later layers build.
        let streams = request.pushTarget.flatMap { target in
            request.registry.upload.monolithicOnly ? nil : LayerStreams(store: store, reference: target, settings: request.registry)
        }
        var finished = false
        defer { streams?.finish(abandon: !finished) }
        var built: [BuiltLayer] = []
        var reports = baseReports
        var cacheEntries: [LayerCacheEntry] = []
        let job = LayerJob(store: store, plan: plan, cache: cache, streams: streams)
        for (layer, outcome) in zip(planned, try job.buildAll(planned, report: report)) {
            built.append(BuiltLayer(blob: outcome.blob, createdBy: try layer.history(entries: outcome.entries)))
            reports.append(outcome.report)
            if let key = outcome.remoteKey, outcome.report.source != .registryCache {
                cacheEntries.append(LayerCacheEntry(key: key, layer: outcome.blob, model: layer.model))
            }
        }

        let created = Assembler.timestamp(mtime)
        settings.labels = defaultLabels(request: request, created: created).merging(settings.labels) { $1 }
        let image = try Assembler(store: store).assemble(base: base, layers: built, settings: settings,
                                                         platform: platform, created: created)
        // Files and archives need every byte: base layers left in the registry come now.
        if !sinks.isEmpty {
            let backfill = LayerBackfill(store: store, settings: request.registry, observer: request.transferObserver)
            try backfill.fetchMissing(of: image.manifest)
        }
        let names = [Builder.lastBuildTag] + [request.tag].compactMap { $0 }
        for sink in names.map({ StoreSink(store: store, name: $0) as any ImageSink }) + sinks {
            try sink.write(image.stored, from: store)
        }
        if let digestFile = request.digestFile {
            try AtomicFile.write(Array("\(image.manifestDescriptor.digest)\n".utf8), to: digestFile)
        }
        finished = true
        return BuildResult(image: image, layers: reports, cacheEntries: cacheEntries)
    }

    /// The base for this build's platform, from the source its location names.
    private func resolveBase(_ request: BuildRequest, mtime: Int64, cache: LayerCache) throws -> (BaseImage, [LayerReport]) {
        let start = Date()
        let source = try BaseSources.source(for: request, store: store, cache: cache, mtime: mtime)
        let base = try source.image(for: request.platform ?? Platform.host)
        let kind: LayerReport.Source
        if let rootfs = source as? RootfsSource { kind = rootfs.fromCache ? .cached : .built } else { kind = .base }
        let seconds = Date().timeIntervalSince(start)
        return (base, base.layers.map { LayerReport(description: "base", blob: $0, seconds: seconds, source: kind) })
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
