import OCI
import Layering
import Diagnostics
import Fetch

/// A model as planned: fetched (its digest known before any layer is built), or
/// hashed by its layers as they are built — a local file or a directory's shards
/// that no record knows, in a build no cache can hit — and made whole from what
/// those layers hashed, in their order.
enum PlannedModel: Sendable {
    case fetched(FetchedModel)
    case hashedByLayers(@Sendable ([FetchedModel]) throws -> FetchedModel)

    var fetched: FetchedModel? {
        if case .fetched(let fetched) = self { return fetched }
        return nil
    }
}

/// Where a set model's layers read its files from: what a fetched set names.
struct ModelDirectory: Sendable {
    /// The source, safe to print.
    var source: String
    var path: String
    /// Files `include`/`exclude` left out of the model.
    var leftOut: [String]

    init(source: String, path: String, leftOut: [String]) {
        self.source = source
        self.path = path
        self.leftOut = leftOut
    }

    init(_ fetched: FetchedModel) {
        self.init(source: fetched.source, path: fetched.path, leftOut: fetched.leftOut)
    }
}

extension Builder {
    /// A local model directory in a build no cache can hit: each shard no record
    /// knows is hashed by its own layer's read of it (1 GiB hashed first was 0.8 s
    /// before the first layer could start); small files, and shards whose digest a
    /// record keeps, are hashed (or looked up) now, as `fetch` would.
    func coldDirectoryLayers(_ path: String, model: ModelSettings, fetcher: ModelFetcher,
                             compression: Compression) throws -> ([PlannedLayer], PlannedModel) {
        let listing = try fetcher.listLocalDirectory(path)
        let destination = model.imagePath
        var known: [FetchedModel.ModelFile] = []
        var shards: [String] = []
        var layers: [PlannedLayer] = []
        var hashedByLayers: [String] = []
        var reused = true
        let directory = ModelDirectory(source: path, path: path, leftOut: listing.leftOut)
        for (name, size) in listing.files {
            let full = path + "/" + name
            // Small files are hashed now: only a shard looks for (and may skip) its record here.
            if size >= Self.shardThreshold, let unhashed = try fetcher.unhashedLocalFile(.local(path: full)) {
                let target = destination + "/" + name
                let fileSet = try FileSet(source: full, options: FileSetOptions(destination: target))
                let input = PlannedLayer.ModelInput(hashedWhileBuilt: unhashed, historyOnceHashed: { Self.shardHistory($0, target: target) })
                layers.append(PlannedLayer(origin: .model(input), destination: destination, content: .files(fileSet),
                                           compression: compression, description: target, createdBy: ""))
                hashedByLayers.append(name)
                shards.append(name)
                reused = false
                continue
            }
            let (file, wasKnown) = try fetcher.fetchLocalFile(name, in: path)
            reused = reused && wasKnown
            known.append(file)
            if file.size >= Self.shardThreshold {
                layers.append(try shardLayer(file, in: directory, destination: destination, compression: compression, cacheRecord: nil))
                shards.append(name)
            }
        }
        // As `directoryLayers` makes them: the shards in path order, then the small files.
        let small = known.filter { $0.size < Self.shardThreshold }
        if !small.isEmpty {
            layers.append(try smallFilesLayer(small, in: directory, leaving: shards, destination: destination, compression: compression,
                                              cacheRecord: nil))
        }
        let (hashedOrder, leftOut, hashedNow, allKnown) = (hashedByLayers, listing.leftOut, known, reused)
        return (layers, .hashedByLayers { hashed in
            guard hashed.count == hashedOrder.count else {
                throw Failure(.internalFailure, "model directory \(path): \(hashed.count) of \(hashedOrder.count) shards hashed; this is a bug in gantry")
            }
            let files = hashedNow + zip(hashedOrder, hashed).map { name, model in
                FetchedModel.ModelFile(relativePath: name, digest: model.digest, size: model.size, stamp: model.localStamp)
            }
            return FetchedModel.localSet(path, files: files.sorted { $0.relativePath < $1.relativePath }, leftOut: leftOut, reused: allKnown)
        })
    }
}
