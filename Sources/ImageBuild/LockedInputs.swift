import FoundationEssentials
import OCI
import Images
import Fetch
import Locking
import Diagnostics

/// `gantry build --locked`: the build takes its inputs from gantry.lock, and checks
/// before any work that the lock is the recipe's — the recipe digest, the platform
/// set, each base's digest — naming every difference. A registry base is pulled by
/// the locked digest (the tag may have moved), each model is pinned to its locked
/// SHA-256, and the OS packages and Python wheels are the locked files (see
/// `packagesLayer` and `PythonDependencies`).
enum LockedInputs {
    /// The request with the lock's pins applied; fails when the lock is for another recipe.
    static func apply(_ lock: LockFile, to request: BuildRequest, lockPath: String) throws -> BuildRequest {
        var request = request
        var problems: [String] = []
        let recipe = try RecipeDigest.of(request)
        if recipe != lock.recipe {
            problems.append("the recipe changed since the lock was written (\(LockDiff.short(lock.recipe)) → \(LockDiff.short(recipe)))")
        }
        // One platform: the base's tag may have moved; its locked digest is what is built.
        if case .registry(let reference) = request.base, lock.platforms.count == 1, let locked = lock.platforms.values.first?.base,
           reference.digest == nil, let digest = try? Digest(locked.digest) {
            var pinned = reference
            pinned.digest = digest
            request.base = .registry(pinned)
        }
        for index in request.models.indices {
            let model = request.models[index]
            guard let locked = lock.models.first(where: { $0.destination == model.imagePath }) else {
                problems.append("model \(model.imagePath) is not in the lock")
                continue
            }
            let pin = try Self.pin(of: locked, lockPath: lockPath)
            if let own = model.sha256, own != pin {
                problems.append("model \(model.imagePath): the recipe pins \(own.short), the lock \(pin.short)")
            }
            request.models[index].sha256 = pin
        }
        try fail(problems, lockPath: lockPath)
        return request
    }

    /// After the bases are resolved: the same platforms, and each base the one locked.
    static func checkBases(_ bases: [(platform: Platform, base: BaseImage)], location: ImageLocation, lock: LockFile, lockPath: String) throws {
        var problems: [String] = []
        let built = Set(bases.map { $0.platform.description }), locked = Set(lock.platforms.keys)
        if built != locked {
            problems.append("the lock is for \(locked.sorted().joined(separator: ", ")), the build for \(built.sorted().joined(separator: ", "))")
        }
        for (platform, base) in bases {
            let now = try Builder.lockedBase(location, base)
            let then = lock.platforms[platform.description]?.base
            if now?.digest != then?.digest {
                problems.append("base \(platform): locked \(then.map { LockDiff.short($0.digest) } ?? "none"), now \(now.map { LockDiff.short($0.digest) } ?? "none")")
            }
        }
        try fail(problems, lockPath: lockPath)
    }

    /// A model's locked content as the pin the fetcher checks: a file's SHA-256, or a set's digest over its files.
    static func pin(of model: LockFile.Model, lockPath: String) throws -> Digest {
        if model.files.count == 1, model.files[0].path.isEmpty {
            return try Digest("sha256:" + model.files[0].sha256)
        }
        return FetchedModel.setDigest(try model.files.map {
            FetchedModel.ModelFile(relativePath: $0.path, digest: try Digest("sha256:" + $0.sha256), size: $0.size, stamp: nil)
        })
    }

    private static func fail(_ problems: [String], lockPath: String) throws {
        guard !problems.isEmpty else { return }
        throw Failure(.invalidInput, "\(lockPath) does not match this build: \(problems.joined(separator: "; ")); run 'gantry lock' and review the difference, or build without --locked")
    }
}
