import Foundation
import Testing
import OCI
import ByteStreams
import ContentStore
import Images
import Recipes
import Registry
import TestSupport
import Threads
import Fetch
@testable import ImageBuild

/// The build pipeline end to end in one process, without the CLI: a scratch or
/// layout base, app layers, the layer cache, outputs, and layers streamed to a
/// registry (a scripted one) while they are built.
@Suite struct BuilderTests {
    let scratch: ScratchDirectory
    let app: String

    init() throws {
        scratch = try ScratchDirectory()
        app = scratch.path + "/app"
        try FileManager.default.createDirectory(atPath: app + "/static", withIntermediateDirectories: true)
        _ = try scratch.write("app/app.py", Array("print('hello')\n".utf8))
        _ = try scratch.write("app/static/data.bin", testBytes(50_000, seed: 7))
    }

    func request(base: ImageLocation = .scratch) -> BuildRequest {
        var request = BuildRequest()
        request.base = base
        request.layers = [LayerSpec(source: app, destination: "/app")]
        request.settings.entrypoint = ["python3", "/app/app.py"]
        request.settings.workdir = "/app"
        return request
    }

    func build(_ request: BuildRequest, store: ContentStore) throws -> (BuildResult, [LayerReport]) {
        var reports: [LayerReport] = []
        let result = try Builder(store: store).build(request) { reports.append($0) }
        return (result, reports)
    }

    @Test func aScratchImageHasOneLayerPerSourceAndItsConfigSaysSo() throws {
        let store = try ContentStore(root: scratch.path + "/store")
        let (result, reports) = try build(request(), store: store)
        let image = try #require(result.images.first)

        #expect(image.manifest.layers.count == 1)
        #expect(image.config.rootfs.diffIDs.count == 1)
        #expect(image.config.config?.entrypoint == ["python3", "/app/app.py"])
        #expect(image.config.config?.workingDir == "/app")
        #expect(image.config.history?.last?.createdBy?.hasSuffix(" at /app") == true)
        #expect(reports.map(\.source) == [.built])
        // Everything the manifest names is in the store and reads back verified.
        for blob in [image.manifest.config] + image.manifest.layers { try store.verify(blob) }
        #expect(try store.index.find(Builder.lastBuildTag)?.digest == result.root.digest)
    }

    @Test func anUnchangedRebuildComesFromTheCacheAndAFreshStoreGivesTheSameDigest() throws {
        let store = try ContentStore(root: scratch.path + "/store")
        let (first, _) = try build(request(), store: store)
        let (again, reports) = try build(request(), store: store)
        let (fresh, freshReports) = try build(request(), store: try ContentStore(root: scratch.path + "/other"))

        #expect(reports.map(\.source) == [.cached])
        #expect(freshReports.map(\.source) == [.built])
        let configs = (String(decoding: try store.read(first.images[0].manifest.config.digest), as: UTF8.self),
                       String(decoding: try store.read(again.images[0].manifest.config.digest), as: UTF8.self))
        #expect(again.root.digest == first.root.digest, "\(configs.0) vs \(configs.1)")
        #expect(fresh.root.digest == first.root.digest)

        // One changed file: a new layer, a new digest.
        _ = try scratch.write("app/app.py", Array("print('changed')\n".utf8))
        let (changed, changedReports) = try build(request(), store: store)
        #expect(changedReports.map(\.source) == [.built])
        #expect(changed.root.digest != first.root.digest)
    }

    /// `models:`: a directory set and a single file, each in its own layers and
    /// labels; a change to one leaves the other's layers as they were.
    @Test func severalModelsLandApartAndAreRecordedByName() throws {
        try FileManager.default.createDirectory(atPath: scratch.path + "/llm", withIntermediateDirectories: true)
        _ = try scratch.write("llm/config.json", Array("{}".utf8))
        _ = try scratch.write("llm/weights.bin", testBytes(100_000, seed: 3))
        _ = try scratch.write("labels.txt", Array("cat\ndog\n".utf8))
        var set = ModelSettings(source: try ModelSource(parsing: scratch.path + "/llm"))
        set.destination = "/models/llm"
        let labels = ModelSettings(source: try ModelSource(parsing: scratch.path + "/labels.txt"))
        var request = request()
        request.models = [set, labels]
        let store = try ContentStore(root: scratch.path + "/store")
        let (result, _) = try build(request, store: store)

        #expect(result.models.map(\.settings.name) == ["llm", "labels.txt"])
        #expect(result.model == nil)
        let config = try #require(result.images.first?.config.config?.labels)
        #expect(config[ModelLabel.digest(named: "llm")] == result.models[0].fetched.digest.description)
        #expect(config[ModelLabel.digest(named: "labels.txt")] == result.models[1].fetched.digest.description)
        #expect(config[ModelLabel.digest] == nil)
        let layers = try #require(result.images.first?.manifest.layers)
        #expect(layers.count == 3)

        _ = try scratch.write("labels.txt", Array("cat\ndog\nbird\n".utf8))
        let (changed, reports) = try build(request, store: store)
        #expect(reports.map(\.source) == [.cached, .built, .cached])
        #expect(changed.images[0].manifest.layers[0] == layers[0] && changed.images[0].manifest.layers[1] != layers[1])

        // Two models named alike, or one inside the other, are refused before any work.
        var clash = labels
        clash.destination = "/models/llm/labels.txt"
        request.models = [set, clash]
        #expect { try build(request, store: store) } throws: { "\($0)".contains("inside model") }
        clash.destination = "/srv/llm"
        request.models = [set, clash]
        #expect { try build(request, store: store) } throws: { "\($0)".contains("would both be named 'llm'") }
    }

    @Test func aLayoutBaseKeepsItsLayersAsTheyAre() throws {
        let store = try ContentStore(root: scratch.path + "/store")
        var baseRequest = request()
        baseRequest.outputs = [.ociLayout(directory: scratch.path + "/base", tag: "v1")]
        baseRequest.settings.env = [EnvironmentVariable(name: "FROM_BASE", value: "1")]
        let (base, _) = try build(baseRequest, store: store)
        let baseImage = try #require(base.images.first)

        var onBase = request(base: .ociLayout(directory: scratch.path + "/base", tag: "v1"))
        onBase.layers = [LayerSpec(source: app + "/static", destination: "/data")]
        let (result, reports) = try build(onBase, store: try ContentStore(root: scratch.path + "/second"))
        let image = try #require(result.images.first)

        // The base's layer is referenced as it is (same blob), never recompressed; the new one sits above it.
        #expect(image.manifest.layers.count == 2)
        #expect(image.manifest.layers.first == baseImage.manifest.layers.first)
        #expect(image.config.rootfs.diffIDs.first == baseImage.config.rootfs.diffIDs.first)
        #expect(reports.map(\.source) == [.base, .built])
        // Inherited config: the base's environment and entrypoint stay unless the build sets them.
        #expect(image.config.config?.env?.contains("FROM_BASE=1") == true)
        #expect(image.config.config?.entrypoint == ["python3", "/app/app.py"])
    }

    /// A scripted registry that takes streamed uploads into `team/REPOSITORY` for
    /// each of `repositories`, keeping each one's PATCHed bytes.
    func streamingRegistry(_ repositories: [String]) -> (ScriptedRegistry, Locked<[String: [UInt8]]>) {
        let registry = ScriptedRegistry()
        let received = Locked<[String: [UInt8]]>([:])
        for repository in repositories {
            let uploads = "/v2/team/\(repository)/blobs/uploads/"
            registry.transport.on("POST", uploads, reply: .answer(202, headers: ["Location": uploads + "s1"]))
            registry.transport.on("PATCH", uploads + "s1", times: 100) { request in
                received.withLock { $0[repository, default: []] += request.body }
                return .answer(202, headers: ["Location": uploads + "s1"])
            }
            registry.transport.on("PUT", uploads + "s1?digest=") { request in
                .answer(201, headers: ["Docker-Content-Digest": String(request.url.split(separator: "=").last ?? "")])
            }
        }
        return (registry, received)
    }

    /// `request` pushed to `registry.test/team/app:v1` through `registry`, in 8 KiB chunks.
    func streaming(_ request: BuildRequest, to registry: ScriptedRegistry) throws -> BuildRequest {
        var streamed = request
        streamed.pushTarget = try Reference(parsing: "registry.test/team/app:v1")
        streamed.registry.sessions = RegistrySessionPool()
        streamed.registry.upload.chunkSize = 8192
        streamed.registry.upload.monolithicLimit = 8192
        streamed.registry.use(registry.session)
        return streamed
    }

    @Test func aPushTargetStreamsEachNewLayerWhileItIsBuilt() throws {
        let (registry, received) = streamingRegistry(["app"])
        let store = try ContentStore(root: scratch.path + "/store")
        let (result, _) = try build(try streaming(request(), to: registry), store: store)
        let layer = try #require(result.images.first?.manifest.layers.first)

        // The registry got the layer's exact bytes, closed under its digest, before any push ran.
        var stored: [UInt8] = []
        try store.readVerified(layer) { stored += $0 }
        #expect(received.value["app"] == stored)
        #expect(registry.trace.last?.hasPrefix("PUT /v2/team/app/blobs/uploads/s1?digest=\(layer.digest)") == true)
        #expect(registry.trace.first == "POST /v2/team/app/blobs/uploads/")
    }

    /// A cold store (no layer records, no registry cache) hashes a local model by
    /// its layer's own read of the file; the image is the one a store that hashed
    /// the file first builds, and the digest is remembered for the next build.
    @Test func aLocalModelInAColdStoreIsHashedByItsLayersOwnRead() throws {
        let weights = try scratch.write("weights.bin", testBytes(300_000, seed: 11))
        var modelRequest = request()
        modelRequest.model = ModelSettings(source: try ModelSource(parsing: weights))
        let cold = try ContentStore(root: scratch.path + "/cold")
        var fetched: [FetchedModel] = []
        var events: [String] = []
        var builder = Builder(store: cold)
        builder.modelFetched = { fetched.append($0); events.append("model") }
        let result = try builder.build(modelRequest) { events.append($0.description) }

        let expected = Digest(sha256: SHA256Hasher.hash(testBytes(300_000, seed: 11)))
        #expect(fetched.map(\.digest) == [expected])
        // Known once the layer read the file, not before it was built.
        #expect(events == ["/models/weights.bin", "/app", "model"])
        #expect(result.model?.digest == expected)
        let image = try #require(result.images.first)
        #expect(image.config.config?.labels?[ModelLabel.digest] == expected.description)
        #expect(image.config.history?.contains { $0.createdBy == "gantry: model \(expected) at /models/weights.bin" } == true)

        // A store with layer records hashes the file before building: the same image.
        let warm = try ContentStore(root: scratch.path + "/warm")
        _ = try build(request(), store: warm)
        let (hashedFirst, _) = try build(modelRequest, store: warm)
        #expect(hashedFirst.root.digest == result.root.digest)

        // The cold store recorded the layer under the model's digest: nothing is rebuilt.
        let (again, reports) = try build(modelRequest, store: cold)
        #expect(again.root.digest == result.root.digest)
        #expect(reports.map(\.source) == [.cached, .cached])
    }

    /// The same for a model directory: each shard no record knows is hashed by its
    /// own layer; the set's digest, history and image are those of hashing first.
    @Test func aColdStoreHashesADirectorysShardsByTheirOwnLayers() throws {
        try FileManager.default.createDirectory(atPath: scratch.path + "/llm/sub", withIntermediateDirectories: true)
        let shardSize = Int(Builder.shardThreshold)
        _ = try scratch.write("llm/a.bin", testBytes(shardSize, seed: 21))
        _ = try scratch.write("llm/sub/b.bin", testBytes(shardSize + 1, seed: 22))
        _ = try scratch.write("llm/config.json", Array("{}".utf8))
        var set = ModelSettings(source: try ModelSource(parsing: scratch.path + "/llm"))
        set.destination = "/models/llm"
        var modelRequest = request()
        modelRequest.model = set
        var events: [String] = []
        var builder = Builder(store: try ContentStore(root: scratch.path + "/cold"))
        builder.modelFetched = { _ in events.append("model") }
        let cold = try builder.build(modelRequest) { events.append($0.description) }
        #expect(events == ["/models/llm/a.bin", "/models/llm/sub/b.bin", "/models/llm (small files)", "/app", "model"])

        let warm = try ContentStore(root: scratch.path + "/warm")
        _ = try build(request(), store: warm)
        let (hashedFirst, _) = try build(modelRequest, store: warm)
        #expect(cold.root.digest == hashedFirst.root.digest)
        #expect(cold.model?.digest == hashedFirst.model?.digest)
        #expect(cold.model?.files == hashedFirst.model?.files)
        let shard = Digest(sha256: SHA256Hasher.hash(testBytes(shardSize + 1, seed: 22)))
        #expect(cold.images[0].config.history?.contains { $0.createdBy == "gantry: model shard \(shard) at /models/llm/sub/b.bin" } == true)
    }

    /// `model.image` with a push: the model's layer streams to the model image's
    /// repository while it is built, the app's layer to the app's.
    @Test func aModelImageStreamsItsLayerToItsOwnRepository() throws {
        let (registry, received) = streamingRegistry(["app", "app-model"])
        _ = try scratch.write("weights.bin", testBytes(40_000, seed: 5))
        var model = ModelSettings(source: try ModelSource(parsing: scratch.path + "/weights.bin"))
        model.image = "team/app-model:v1"
        var streamed = try streaming(request(), to: registry)
        streamed.model = model
        streamed.modelPushTarget = try Reference(parsing: "registry.test/team/app-model:v1")
        let store = try ContentStore(root: scratch.path + "/store")
        let (result, _) = try build(streamed, store: store)

        let modelLayer = try #require(result.modelImage?.manifests.first?.manifest.layers.first)
        let appLayer = try #require(result.images.first?.manifest.layers.last)
        var modelBytes: [UInt8] = [], appBytes: [UInt8] = []
        try store.readVerified(modelLayer) { modelBytes += $0 }
        try store.readVerified(appLayer) { appBytes += $0 }
        #expect(received.value["app-model"] == modelBytes)
        #expect(received.value["app"] == appBytes)
        #expect(registry.trace.contains { $0.hasPrefix("PUT /v2/team/app-model/blobs/uploads/s1?digest=\(modelLayer.digest)") })
    }
}
