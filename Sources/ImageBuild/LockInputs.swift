import FoundationEssentials
import OCI
import ByteStreams
import Images
import Recipes
import Locking
import Fetch
import SystemSupport
import Diagnostics

/// What `gantry lock` pins for a build request, found the way a build finds it
/// but without building: each platform's base (its manifest digest, or a root
/// filesystem tarball's SHA-256), the OS packages the resolver chooses (the .debs'
/// URLs and SHA-256s), the Python distributions pip would install (the wheels'
/// URLs and SHA-256s), and the recipe digest (`RecipeDigest`).
extension Builder {
    public func lock(_ request: BuildRequest) throws -> LockFile {
        try request.validate()
        let cache = LayerCache(store: store, enabled: request.useCache)
        let (targets, _) = try resolveBases(request, mtime: request.sourceDateEpoch ?? 0, cache: cache)
        let facts = BaseFacts(store: store, registry: request.registry)
        let plan = PlanContext(mtime: request.sourceDateEpoch ?? 0, threads: request.threads, remote: nil)
        var platforms: [String: LockFile.Platform] = [:]
        for target in targets {
            var entry = LockFile.Platform(base: try Self.lockedBase(request.base, target.base))
            if let selection = request.packages {
                let layer = try packagesLayer(selection, platform: target.platform, base: target.base, request: request, facts: facts, plan: plan)
                if case .osPackages(let packages) = layer.origin {
                    entry.packages = packages.map {
                        LockFile.OSPackage(name: $0.name, version: $0.version, architecture: $0.architecture, url: $0.url, size: $0.size, sha256: $0.sha256)
                    }
                }
            }
            if let python = request.python {
                let library = python.platformTag == nil ? try facts.cLibrary(in: target.base) : nil
                entry.python = try PythonDependencies(store: store, settings: python, platform: target.platform, cLibrary: library).resolve()
            }
            platforms[target.platform.description] = entry
        }
        return LockFile(recipe: try RecipeDigest.of(request), platforms: platforms, models: try lockedModels(request),
                        generator: "gantry \(GantryVersion.number)")
    }

    /// A registry or layout base by its manifest digest; a root filesystem tarball by its bytes; scratch: none.
    static func lockedBase(_ location: ImageLocation, _ base: BaseImage) throws -> LockFile.Base? {
        switch location {
        case .scratch: return nil
        case .rootfs(let file):
            return LockFile.Base(reference: location.description, digest: "sha256:" + (try FileReader.digest(of: file)).sha256.hex)
        default:
            guard let digest = base.digest else {
                throw Failure(.invalidInput, "\(location) has no manifest digest to lock; name an image (a registry reference or an OCI layout)")
            }
            return LockFile.Base(reference: location.description, digest: digest.description)
        }
    }
}

extension Builder {
    /// Each model as the build would fetch it (the latest version, unless pinned):
    /// every file with the version its source named, its size and SHA-256.
    func lockedModels(_ request: BuildRequest) throws -> [LockFile.Model] {
        try request.models.map { model in
            var fetcher = ModelFetcher(store: store)
            fetcher.selecting = try model.fileSelection()
            let fetched = try fetcher.fetch(model.source, pin: model.sha256, inPlace: true)
            let files: [LockFile.ModelFile]
            if let set = fetched.files {
                files = set.map { LockFile.ModelFile(path: $0.relativePath, identity: $0.identity ?? "", size: $0.size, sha256: $0.digest.encoded) }
            } else {
                files = [LockFile.ModelFile(path: "", identity: fetched.identity ?? "", size: fetched.size, sha256: fetched.digest.encoded)]
            }
            return LockFile.Model(source: model.source.description, destination: model.imagePath, files: files)
        }
    }
}
