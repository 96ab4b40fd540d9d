import OCI
import ImageBuild
import Signing
import Registry

/// What a build sends to a registry, decided before anything is sent: the app
/// image (an image or an index) and its tags, its model image, its signatures,
/// its SBOM and provenance referrers, and the layer-cache entries to record.
public struct PublishPlan: Sendable {
    /// The app image's root (manifest or index) in the store, and where it goes.
    public var app: Descriptor
    public var destination: Reference
    /// More tags for the app's root (`--push-tag`).
    public var tags: [String] = []
    /// Fetch layers a build left in a registry when the destination needs their bytes.
    public var backfill = true
    /// `model.image`: pushed first, so that a pushed app is never missing its model.
    public var modelImage: ModelImagePush?
    public var signingKey: SigningKey?
    public var attachments: [Attestations.Attachment] = []
    /// `--cache-repo`: entries recorded once the app is pushed.
    public var layerCache: RegistryLayerCache?
    public var cacheEntries: [LayerCacheEntry] = []

    public init(app: Descriptor, destination: Reference) {
        self.app = app
        self.destination = destination
    }

    public struct ModelImagePush: Sendable {
        public var root: Descriptor
        public var destination: Reference

        public init(root: Descriptor, destination: Reference) {
            self.root = root
            self.destination = destination
        }
    }

    /// The model image's reference: as written when it names a registry, else in the
    /// registry the app goes to (`models/classifier:1` next to `myreg.azurecr.io/team/app`).
    public static func modelReference(_ text: String, besides app: Reference) throws -> Reference {
        let first = text.split(separator: "/").first.map(String.init) ?? ""
        let namesRegistry = text.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        var reference = try Reference(parsing: namesRegistry ? text : "\(app.registry)/\(text)")
        if reference.tag == nil { reference.tag = "latest" }
        return reference
    }
}

/// What a publish sent: the app, and the model image when there was one.
public struct Published: Sendable {
    public var app: PushResult
    public var model: PushResult?
}
