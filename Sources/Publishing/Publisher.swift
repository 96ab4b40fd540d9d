import OCI
import ContentStore
import Images
import Registry
import Signing
import ImageBuild
import Diagnostics

/// Everything gantry sends to a registry, for every command that sends: `push`
/// (an image), `sign` (signatures), `model push` (a ModelPack artifact) and
/// `build --push` (a `PublishPlan`: model image, app, signatures, referrers,
/// layer cache, in that order). Commands parse their flags and call one of these;
/// all of them share the command's registry sessions through `settings`.
public struct Publisher {
    public let store: ContentStore
    public let settings: RegistrySettings
    /// Transfer progress (nil: quiet).
    public let observer: TransferObserver?
    /// One line per step for the user (the CLI writes them to standard error).
    public let say: (String) -> Void

    public init(store: ContentStore, settings: RegistrySettings, observer: TransferObserver?, say: @escaping (String) -> Void) {
        self.store = store
        self.settings = settings
        self.observer = observer
        self.say = say
    }

    /// Pushes the image whose root is `root` in `source` (the store, or a user's
    /// layout read in place). `backfill`: fetch layers a build left in a registry
    /// into the store when the destination needs their bytes (never into a user's layout).
    public func push(_ root: Descriptor, from source: ContentStore, to destination: Reference, tags: [String],
                     backfill: Bool) throws -> PushResult {
        for tag in tags where !Reference.isValidTag(tag) {
            throw Failure(.usage, "--tag '\(tag)' is not a valid tag: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
        }
        let sink = RegistrySink(reference: destination, extraTags: tags, settings: settings, observer: observer,
                                backfill: backfill ? LayerBackfill(store: source, settings: settings, observer: observer) : nil)
        return try sink.push(root, from: source)
    }

    /// Signs what `image` names (an index and each of its manifests), each once.
    public func sign(_ image: Reference, key: SigningKey) throws -> [CosignSignatures.Signed] {
        let signatures = CosignSignatures(store: store, settings: settings)
        return try signatures.subjects(of: image).map { try signatures.sign($0, in: image, key: key) }
    }

    /// A build's publication, step by step; each step's line goes to `say`. The
    /// pushes are recorded as the store's last push (what `gantry deploy` deploys).
    public func publish(_ plan: PublishPlan) throws -> Published {
        var model: PushResult?
        if let modelImage = plan.modelImage {
            model = try pushModelImage(modelImage)
        }
        LastPush.saveModel(model, in: store)
        let app = try push(plan.app, from: store, to: plan.destination, tags: plan.tags, backfill: plan.backfill)
        LastPush.save(app, in: store)
        say("pushed \(app.reference)")
        if let key = plan.signingKey {
            for signed in try sign(try Reference(parsing: app.reference), key: key) {
                say("signed \(signed.digest.short) → \(signed.signatureReference)")
            }
        }
        try Attestations.attach(plan.attachments, to: plan.destination, store: store, settings: settings, say: say)
        if let cache = plan.layerCache, !plan.cacheEntries.isEmpty {
            cache.saveAll(plan.cacheEntries, pushedTo: plan.destination).forEach(Warnings.emit)
        }
        return Published(app: app, model: model)
    }

    /// The model image, unless its tag already names it (then nothing is sent).
    private func pushModelImage(_ model: PublishPlan.ModelImagePush) throws -> PushResult {
        let puller = ImagePuller(store: store, session: try settings.session(for: model.destination.registry), observer: nil)
        if try puller.currentDigest(model.destination) == model.root.digest {
            let unchanged = PushResult(reference: "\(model.destination.name)@\(model.root.digest)", digest: model.root.digest,
                                       tags: [model.destination.tag ?? "latest"], blobs: [])
            say("model image unchanged: \(unchanged.reference) (not pushed again)")
            return unchanged
        }
        let pushed = try push(model.root, from: store, to: model.destination, tags: [], backfill: false)
        say("pushed model \(pushed.reference)")
        return pushed
    }
}
