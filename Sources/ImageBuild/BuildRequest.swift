import FoundationEssentials
import Glibc
import OCI
import Images
import Layering
import Registry
import Fetch
import Recipes
import DebianPackages
import Locking
import Diagnostics

/// Everything one build needs, validated: the recipe merged with flags.
public struct BuildRequest: Sendable {
    public var base: ImageLocation = .scratch
    /// The platforms to build: one image each, under an index when there are
    /// several. Empty: the base's platform, else this machine's.
    public var platforms: [Platform] = []
    public var layers: [LayerSpec] = []
    public var settings = ImageSettings()
    public var compression: Compression = .default
    /// SOURCE_DATE_EPOCH: layer mtimes and `created`. nil means 0 (1970-01-01).
    public var sourceDateEpoch: Int64?
    public var threads = 1
    public var useCache = true
    /// Name of the image in the store's index.json (besides `gantry:last-build`).
    public var tag: String?
    public var outputs: [ImageLocation] = []
    /// `--archive-platform`: the platform a multi-platform build writes to a
    /// docker-archive output (Docker's archive holds one image per name).
    public var archivePlatform: Platform?
    public var digestFile: String?
    /// Where to look for git source/revision metadata (the recipe's directory).
    public var contextDirectory: String?
    /// For registry bases.
    public var registry = RegistrySettings()
    public var transferObserver: TransferObserver?
    /// Where the image is pushed after the build (`--push`): new layers start going
    /// up while they are written (see `LayerStreams`).
    public var pushTarget: Reference?
    /// Where the model image (`model.image`) is pushed with the app: its layers
    /// stream there while they are written, as the app's do to `pushTarget`.
    public var modelPushTarget: Reference?
    /// `--cache-repo`: the registry layer cache (see `RegistryLayerCache`).
    public var cacheRepository: Reference?
    /// Models fetched into layers of their own, between the dependencies and the
    /// app, in the recipe's order (`model:` is one, `models:` several).
    public var models: [ModelSettings] = []
    /// The build's model when it has exactly one: what `model.image`, the ModelPack
    /// export and the `--model…` flags act on. Setting it replaces `models`.
    public var model: ModelSettings? {
        get { models.count == 1 ? models[0] : nil }
        set { models = newValue.map { [$0] } ?? [] }
    }
    /// A Python dependencies layer, right above the base (and its OS packages).
    public var python: PythonSettings?
    /// OS packages from Debian or Ubuntu repositories, in a layer right above the base.
    public var packages: PackageSelection?
    /// `--locked`: gantry.lock, whose pins the build takes (see `LockedInputs`), and where it was read.
    public var lock: (file: LockFile, path: String)?

    public init() {}

    /// Applies a recipe; flags are applied afterwards by the caller and win.
    public mutating func apply(_ recipe: Recipe) throws {
        if let base = recipe.base { self.base = try ImageLocation(parsing: base, role: "base", allowRegistry: true) }
        if let platform = recipe.platform { platforms = [try Platform(parsing: platform)] }
        if !recipe.platforms.isEmpty { platforms = try recipe.platforms.map(Platform.init(parsing:)) }
        layers = recipe.layers
        settings = recipe.settings
        if let compression = recipe.compression { self.compression = try Compression(parsing: compression) }
        tag = recipe.tag
        if let cacheRepo = recipe.cacheRepo { cacheRepository = try InputRules.cacheRepository(cacheRepo) }
        // deploy.modelDelivery: baked (a cluster without image volumes) keeps the model in the app image.
        let baked = recipe.deploy.contains { $0.key == "modelDelivery" && $0.value == "baked" }
        models = try recipe.models.map { model in
            var settings = ModelSettings(source: try ModelSource(parsing: model.source))
            if let pin = model.sha256 { settings.sha256 = try ModelSettings.parsePin(pin) }
            if let destination = model.destination { settings.destination = destination }
            settings.license = model.license
            (settings.include, settings.exclude) = (model.include, model.exclude)
            settings.image = baked ? nil : model.image
            return settings
        }
        if let python = recipe.python {
            var settings = PythonSettings(requirements: python.requirements)
            if let version = python.version { settings.version = version }
            if let target = python.target { settings.target = target }
            settings.platformTag = python.platform
            self.python = settings
        }
        if let packages = recipe.packages {
            var selection = PackageSelection(install: packages.install)
            selection.exclude = packages.exclude
            selection.repositories = packages.repositories.map { repository in
                PackageSelection.Repository(source: AptSource(uri: repository.url, suite: repository.suite, components: repository.components),
                                            keyFile: repository.key)
            }
            self.packages = selection
        }
    }

    /// SOURCE_DATE_EPOCH from the environment (reproducible-builds.org spec).
    public static func sourceDateEpoch(from environment: [String: String]) throws -> Int64? {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return nil }
        return try InputRules.sourceDateEpoch(text)
    }

    /// Checks every value before any work (flags included; the recipe's were checked
    /// with their lines when it was read), so a typo never costs a build.
    public func validate() throws {
        if let tag { _ = try InputRules.storeName(tag) }
        for output in outputs {
            if case .ociLayout(_, let tag?) = output { _ = try InputRules.tag(tag, what: "tag of output \(output)") }
        }
        for layer in layers {
            _ = try InputRules.destination(layer.destination, what: "layer destination")
            if let ownership = layer.ownership { _ = try InputRules.ownership(ownership) }
            if let mode = layer.mode { _ = try InputRules.fileMode(mode) }
            if let compression = layer.compression { _ = try InputRules.compression(compression) }
        }
        for port in settings.ports { _ = try InputRules.port(port) }
        for volume in settings.volumes { _ = try InputRules.volume(volume) }
        for variable in settings.env { _ = try InputRules.environmentName(variable.name) }
        if let workdir = settings.workdir { _ = try InputRules.workdir(workdir) }
        if let user = settings.user { _ = try InputRules.user(user) }
        if let model { _ = try InputRules.destination(model.destination, what: "model destination") }
        if let python { _ = try InputRules.destination(python.target, what: "python target") }
        _ = try InputRules.threads(threads)
        if let archive = outputs.first(where: { if case .dockerArchive = $0 { return true } else { return false } }), platforms.count > 1 {
            let listed = platforms.map(\.description).joined(separator: ", ")
            guard let archivePlatform else {
                throw Failure(.usage, "output \(archive): Docker's archive format holds one platform, and this build makes \(platforms.count) (\(listed)); add --archive-platform PLATFORM to write that one there, or write oci-archive:FILE for all")
            }
            guard platforms.contains(where: { $0.satisfies(archivePlatform) }) else {
                throw Failure(.usage, "--archive-platform \(archivePlatform) is not one of this build's platforms (\(listed)); choose one of them")
            }
        }
        // Refused before any work rather than after the build: docker-archive has no zstd.
        let zstd = ([compression] + (try layers.compactMap { try $0.compression.map(InputRules.compression) })).contains {
            if case .zstd = $0 { return true } else { return false }
        }
        if zstd, let archive = outputs.first(where: { if case .dockerArchive = $0 { return true } else { return false } }) {
            throw Failure(.usage, "output \(archive): Docker's archive format cannot hold zstd layers; use compression auto or gzip for it, or write oci-archive:FILE")
        }
    }
}
