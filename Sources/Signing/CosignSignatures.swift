import FoundationEssentials
import OCI
import ByteStreams
import ContentStore
import Registry
import Diagnostics

/// Signatures in a registry as cosign stores them (specs/SIGNATURE_SPEC.md): an
/// image manifest tagged `sha256-<hex>.sig` in the image's repository, one layer
/// per signature — the simple-signing payload as a blob, the base64 DER signature
/// in the layer's `dev.cosignproject.cosign/signature` annotation. cosign, Kyverno,
/// Ratify and containers/image find and check them there.
public struct CosignSignatures {
    public let store: ContentStore
    public let settings: RegistrySettings

    public init(store: ContentStore, settings: RegistrySettings) {
        self.store = store
        self.settings = settings
    }

    /// What `sign` did for one manifest.
    public struct Signed: Sendable {
        public var digest: Digest
        /// The signature manifest's reference, `repo:sha256-<hex>.sig`.
        public var signatureReference: String
        /// False when a signature by the same key was already there (nothing pushed).
        public var added: Bool
    }

    /// Signs the manifest `digest` of `repository` (`reference`'s registry and
    /// repository) and pushes the signature, keeping the signatures already there.
    public func sign(_ digest: Digest, in reference: Reference, key: SigningKey) throws -> Signed {
        let tagReference = signatureReference(for: digest, in: reference)
        let puller = try self.puller(for: reference)
        let verifier = key.verificationKey
        var ours: Descriptor?
        var signedBefore = false
        // The signature manifest is read-modify-write on a shared tag (`SharedTagUpdate`).
        try SharedTagUpdate.untilPresent(gaveUp: "signatures \(tagReference) kept changing under \(SharedTagUpdate.rounds) pushes; another process is signing the same image: run again") {
            var layers = try existingSignatures(tagReference, puller: puller)?.layers ?? []
            // In the store every round: a concurrent signer's layers are pushed again with ours.
            try puller.fetch(layers, repository: reference.repository)
            if let ours {
                if layers.contains(where: { $0.digest == ours.digest && $0.annotations == ours.annotations }) { return true }
            } else if layers.contains(where: { (try? check($0, digest: digest, key: verifier)) == true }) {
                // Signing again with the same key adds nothing: ECDSA signatures differ each
                // time, so "the same" means one that this key verifies for this digest.
                signedBefore = true
                return true
            }
            let layer = try ours ?? signature(for: digest, in: reference, key: key)
            ours = layer
            layers.append(layer)
            // The config cosign writes (go-containerregistry's empty image with these layers).
            let config = try store.put(Array(Self.config(diffIDs: layers.map(\.digest)).utf8), mediaType: MediaType.ociConfig)
            let manifest = try store.put(try CanonicalJSON.encode(Manifest(config: config, layers: layers)), mediaType: MediaType.ociManifest)
            let pusher = ImagePusher(store: store, session: try settings.session(for: reference.registry), settings: settings.upload, observer: nil)
            _ = try pusher.push(manifest: manifest, to: tagReference, extraTags: [])
            return false
        }
        return Signed(digest: digest, signatureReference: tagReference.description, added: !signedBefore)
    }

    /// A new signature layer: cosign's payload for `digest`, stored, its signature in the annotation.
    private func signature(for digest: Digest, in reference: Reference, key: SigningKey) throws -> Descriptor {
        let payload = CosignPayload.make(repository: Self.cosignRepositoryName(reference), digest: digest)
        let signature = try key.sign(payload)
        var layer = try store.put(payload, mediaType: CosignPayload.mediaType)
        layer.annotations = [CosignPayload.signatureAnnotation: Data(signature).base64EncodedString()]
        return layer
    }

    /// How many of the signatures on `digest` verify with `key`, of how many there
    /// are; throws when there are none at all.
    public func verify(_ digest: Digest, in reference: Reference, key: VerificationKey) throws -> (valid: Int, total: Int) {
        let tagReference = signatureReference(for: digest, in: reference)
        let puller = try self.puller(for: reference)
        guard let manifest = try existingSignatures(tagReference, puller: puller) else {
            throw Failure(.checksFailed, "\(reference.name)@\(digest) has no signature (no \(tagReference.tag ?? "") tag in \(reference.name)); sign it with 'gantry sign'")
        }
        let signatures = manifest.layers.filter { $0.mediaType == CosignPayload.mediaType }
        try puller.fetch(signatures, repository: reference.repository)
        let valid = signatures.filter { (try? check($0, digest: digest, key: key)) == true }.count
        return (valid, signatures.count)
    }

    /// How many signatures `digest` has (0 when it has no `.sig` tag).
    public func signatureCount(_ digest: Digest, in reference: Reference) throws -> Int {
        let tagReference = signatureReference(for: digest, in: reference)
        return try existingSignatures(tagReference, puller: try puller(for: reference))?.layers.count ?? 0
    }

    /// Whether one signature layer is `key`'s and names `digest`, as cosign checks it:
    /// the signature over the payload's bytes first, then what the payload claims.
    func check(_ layer: Descriptor, digest: Digest, key: VerificationKey) throws -> Bool {
        guard let encoded = layer.annotations?[CosignPayload.signatureAnnotation],
              let signature = Data(base64Encoded: encoded) else { return false }
        let payload = try store.read(layer.digest)
        guard key.verify(signature: Array(signature), message: payload) else { return false }
        return try CosignPayload.claims(of: payload).digest == digest
    }

    /// What to sign or check for the image `reference` names: its root (a manifest
    /// or an index) and, for an index, each image manifest it lists — a runtime that
    /// pulls one platform checks that platform's manifest's signature.
    public func subjects(of reference: Reference) throws -> [Digest] {
        let root = try puller(for: reference).root(reference)
        let bytes = try store.read(root.digest)
        guard try CanonicalJSON.decode(ManifestKind.self, from: bytes, source: "manifest \(root.digest)").isIndex else { return [root.digest] }
        let index = try CanonicalJSON.decode(Index.self, from: bytes, source: "index \(root.digest)")
        return [root.digest] + index.manifests.filter { MediaType.isManifest($0.mediaType) }.map(\.digest)
    }

    private func signatureReference(for digest: Digest, in reference: Reference) -> Reference {
        var tagged = reference
        tagged.tag = CosignPayload.signatureTag(for: digest)
        tagged.digest = nil
        return tagged
    }

    private func puller(for reference: Reference) throws -> ImagePuller {
        ImagePuller(store: store, session: try settings.session(for: reference.registry), observer: nil)
    }

    /// The signature manifest under `tagReference`, or nil when the tag does not exist.
    private func existingSignatures(_ tagReference: Reference, puller: ImagePuller) throws -> Manifest? {
        guard let root = try puller.rootIfPresent(tagReference) else { return nil }
        return try CanonicalJSON.decode(Manifest.self, from: try store.read(root.digest), source: "signature manifest \(tagReference)")
    }

    /// The repository as go-containerregistry names it (`Repository.Name()`), which is
    /// what cosign writes as the payload's docker-reference: Docker Hub as `index.docker.io`.
    static func cosignRepositoryName(_ reference: Reference) -> String {
        reference.registry == Reference.defaultRegistry ? "index.docker.io/\(reference.repository)" : reference.name
    }

    /// go-containerregistry's config for an empty image with these layers appended
    /// (cosign's signature image), in its field order.
    static func config(diffIDs: [Digest]) -> String {
        let ids = diffIDs.map { "\"\($0)\"" }.joined(separator: ",")
        let history = diffIDs.map { _ in #"{"created":"0001-01-01T00:00:00Z"}"# }.joined(separator: ",")
        return #"{"architecture":"","created":"0001-01-01T00:00:00Z","history":["# + history
            + #"],"os":"","rootfs":{"type":"layers","diff_ids":["# + ids + #"]},"config":{}}"#
    }
}
