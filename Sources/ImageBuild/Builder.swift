import Foundation
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

    public enum Source: Sendable { case base, built, cached }
}

public struct BuildResult: Sendable {
    public var image: AssembledImage
    public var layers: [LayerReport]
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
        let (base, baseReports) = try resolveBase(request, mtime: mtime, cache: cache)
        baseReports.forEach(report)
        let platform = request.platform ?? base.config?.platform ?? Platform.host

        // Least-changing first: dependencies, then the model, then the app, so an
        // app change rebuilds and re-pushes only the top layer.
        var settings = request.settings
        var planned: [PlannedLayer] = []
        if let python = request.python {
            planned.append(try pythonLayer(python, platform: platform, compression: request.compression))
            let inherited = (base.config?.config?.env ?? []).first { $0.hasPrefix("PYTHONPATH=") }.map { String($0.dropFirst(11)) }
            let path = [python.target, inherited].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
            if !settings.env.contains(where: { $0.name == "PYTHONPATH" }) {
                settings.env.insert(EnvironmentVariable(name: "PYTHONPATH", value: path), at: 0)
            }
        }
        if let model = request.model {
            let (layer, fetched) = try modelLayer(model, compression: request.compression)
            planned.append(layer)
            settings.labels[ModelLabel.digest] = settings.labels[ModelLabel.digest] ?? fetched.digest.description
            settings.labels[ModelLabel.source] = settings.labels[ModelLabel.source] ?? fetched.source
        }
        planned += try request.layers.map { try appLayer($0, compression: request.compression) }

        // Overlap the build with the push: uploads run while later layers build.
        let streams = request.pushTarget.flatMap { target in
            request.registry.upload.monolithicOnly ? nil : LayerStreams(store: store, reference: target, settings: request.registry)
        }
        var finished = false
        defer { streams?.finish(abandon: !finished) }
        var built: [BuiltLayer] = []
        var reports = baseReports
        for layer in planned {
            let (blob, line) = try build(layer, mtime: mtime, threads: request.threads, cache: cache, streams: streams)
            built.append(BuiltLayer(blob: blob, createdBy: layer.createdBy))
            reports.append(line)
            report(line)
        }

        let created = Assembler.timestamp(mtime)
        settings.labels = defaultLabels(request: request, created: created).merging(settings.labels) { $1 }
        let image = try Assembler(store: store).assemble(base: base, layers: built, settings: settings,
                                                         platform: platform, created: created)
        // Files and archives need every byte: base layers left in the registry come now.
        if !sinks.isEmpty {
            let backfill = BaseLayerBackfill(store: store, settings: request.registry, observer: request.transferObserver)
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
        return BuildResult(image: image, layers: reports)
    }

    /// A layer to build: its files, how to compress them, and how to describe it.
    struct PlannedLayer {
        var fileSet: FileSet
        var compression: Compression
        var description: String
        var createdBy: String
        /// A store blob the layer's files come from (the model), verified before it is read.
        var storeBlob: Descriptor? = nil
        /// A local model read in place: checked unchanged after the layer is built.
        var builtFrom: FetchedModel? = nil
    }

    /// Builds one layer, or takes it from the cache when its inputs are unchanged.
    private func build(_ layer: PlannedLayer, mtime: Int64, threads: Int, cache: LayerCache,
                       streams: LayerStreams?) throws -> (LayerBlob, LayerReport) {
        let started = Date()
        let settings = LayerSettings(compression: layer.compression, mtime: mtime, threads: threads)
        let key = cache.key(for: layer.fileSet, settings: settings, content: layer.builtFrom?.digest)
        if let hit = cache.lookup(key) {
            return (hit, LayerReport(description: layer.description, blob: hit, seconds: Date().timeIntervalSince(started), source: .cached))
        }
        // A model reused from the store is read for this layer: check it first.
        if let blob = layer.storeBlob { try store.verify(blob) }
        var growing: GrowingFile?
        let blob: LayerBlob
        do {
            blob = try store.ingestLayer { ingest in
                growing = streams?.start(ingest)
                let blob = try LayerBuilder.build(layer.fileSet, settings: settings,
                                                  into: growing.map { GrowthReportingSink(next: ingest, file: $0) } ?? ingest)
                try layer.builtFrom?.checkUnchanged()
                return blob
            }
        } catch {
            growing?.fail()
            throw error
        }
        // Stored first, then the upload may close: the registry never gets a layer the store lost.
        growing?.complete(size: blob.descriptor.size, digest: blob.descriptor.digest.description)
        cache.remember(blob, for: key)
        return (blob, LayerReport(description: layer.description, blob: blob, seconds: Date().timeIntervalSince(started), source: .built))
    }

    private func pythonLayer(_ python: PythonSettings, platform: Platform, compression: Compression) throws -> PlannedLayer {
        let directory = try PythonDependencies(store: store, settings: python, platform: platform).install()
        return PlannedLayer(fileSet: try FileSet(source: directory, options: FileSetOptions(destination: python.target)),
                            compression: compression, description: python.target,
                            createdBy: "gantry: python dependencies from \(PathName.lastComponent(of: python.requirements)) at \(python.target)")
    }

    private func modelLayer(_ model: ModelSettings, compression: Compression) throws -> (PlannedLayer, FetchedModel) {
        // A local model is read where it is: copying 1 GiB into the store first would
        // double what the build writes to disk.
        let fetched = try ModelFetcher(store: store).fetch(model.source, pin: model.sha256, inPlace: true)
        modelFetched?(fetched)
        var layer = PlannedLayer(fileSet: try FileSet(source: fetched.path, options: FileSetOptions(destination: model.imagePath)),
                                 compression: compression, description: model.imagePath,
                                 createdBy: "gantry: model \(fetched.digest) at \(model.imagePath)")
        if fetched.localStamp == nil {
            layer.storeBlob = Descriptor(mediaType: "application/octet-stream", digest: fetched.digest, size: fetched.size)
        }
        layer.builtFrom = fetched  // keyed by its digest; checked unchanged after a build
        return (layer, fetched)
    }

    private func appLayer(_ spec: LayerSpec, compression: Compression) throws -> PlannedLayer {
        let owner = try Ownership.parse(spec.ownership)
        let options = FileSetOptions(destination: spec.destination, ignore: spec.ignore, uid: owner.uid,
                                     gid: owner.gid, allowExternalSymlinks: spec.allowExternalSymlinks)
        let fileSet = try FileSet(source: spec.source, options: options)
        let count = fileSet.entries.count
        return PlannedLayer(fileSet: fileSet, compression: try spec.compression.map(Compression.init(parsing:)) ?? compression,
                            description: spec.destination,
                            createdBy: "gantry: \(count) entr\(count == 1 ? "y" : "ies") at \(spec.destination)")
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
