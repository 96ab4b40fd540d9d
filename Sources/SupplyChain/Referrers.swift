import FoundationEssentials
import OCI
import ByteStreams
import ContentStore
import HTTP
import Registry
import Diagnostics

/// Artifacts attached to an image the OCI 1.1 way: a manifest whose `subject` is
/// the image's manifest and whose `artifactType` says what it holds (an SBOM, a
/// provenance statement). Registries with the referrers API (ACR, distribution 3)
/// list such manifests at `GET /v2/<name>/referrers/<digest>` by themselves; for
/// those without it (Debian's docker-registry 2.8) the distribution spec's tag
/// schema keeps the list: an index tagged `sha256-<hex>` that gantry updates.
public struct Referrers {
    public static let emptyConfigType = "application/vnd.oci.empty.v1+json"

    public let store: ContentStore
    public let settings: RegistrySettings

    public init(store: ContentStore, settings: RegistrySettings) {
        self.store = store
        self.settings = settings
    }

    /// How an attachment reached the registry's list of referrers.
    public enum Listing: String, Sendable { case referrersAPI = "referrers API", tagSchema = "tag schema" }

    /// The artifact manifest for `blob` (already in the store) about `subject`, stored,
    /// with the blobs it names (its empty config and `blob`), for copying it elsewhere.
    public func artifactManifest(blob: Descriptor, artifactType: String, subject: Descriptor,
                                 annotations: [String: String]) throws -> (manifest: Descriptor, blobs: [Descriptor]) {
        let config = try store.put(Array("{}".utf8), mediaType: Self.emptyConfigType)
        var manifest = Manifest(config: config, layers: [blob], annotations: annotations.isEmpty ? nil : annotations)
        manifest.artifactType = artifactType
        var described = subject
        described.annotations = nil
        described.platform = nil
        manifest.subject = described
        var descriptor = try store.put(try CanonicalJSON.encode(manifest), mediaType: MediaType.ociManifest)
        descriptor.artifactType = artifactType
        descriptor.annotations = annotations.isEmpty ? nil : annotations
        return (descriptor, [config, blob])
    }

    /// Pushes an artifact manifest (and its blobs) and makes sure the subject's
    /// referrers list it.
    public func attach(_ artifact: Descriptor, subject: Digest, in reference: Reference) throws -> Listing {
        var byDigest = reference
        byDigest.tag = nil
        byDigest.digest = nil
        let pusher = ImagePusher(store: store, session: try settings.session(for: reference.registry), settings: settings.upload, observer: nil)
        _ = try pusher.push(manifest: artifact, to: byDigest, extraTags: [])
        let client = try RegistryClient(session: try settings.session(for: reference.registry))
        if try referrersAPI(subject, in: reference, client: client) != nil { return .referrersAPI }
        try addToTagIndex(artifact, subject: subject, in: reference, client: client)
        return .tagSchema
    }

    /// Adds `artifact` to the tag schema's index, a read-modify-write on a tag that
    /// concurrent pushes share (`SharedTagUpdate`).
    private func addToTagIndex(_ artifact: Descriptor, subject: Digest, in reference: Reference, client: RegistryClient) throws {
        let tag = Self.fallbackTag(subject)
        try SharedTagUpdate.untilPresent(gaveUp: "referrers index \(tag) in \(reference.name) kept changing under \(SharedTagUpdate.rounds) writes; another process is attaching to the same image: run again") {
            var index = try tagIndex(subject, in: reference) ?? Index(manifests: [])
            // Listed: attached before (nothing to write), or this write held through the wait.
            if index.manifests.contains(where: { $0.digest == artifact.digest }) { return true }
            index.manifests.append(artifact)
            var request = HTTPRequest(method: "PUT", url: client.url("/v2/\(reference.repository)/manifests/\(tag)"),
                                      body: .bytes(try CanonicalJSON.encode(index)))
            request.setHeader("Content-Type", MediaType.ociIndex)
            let response = try client.send(request, scope: RegistryClient.scope(reference.repository, push: true))
            guard response.status == 201 || response.status == 200 else {
                throw client.failure(response, "referrers index \(tag) in \(reference.repository)")
            }
            return false
        }
    }

    /// The descriptors of everything attached to `subject`: from the referrers API
    /// when the registry has it, else from the tag schema's index; optionally only
    /// those of `artifactType`.
    public func list(_ subject: Digest, in reference: Reference, artifactType: String? = nil) throws -> [Descriptor] {
        let client = try RegistryClient(session: try settings.session(for: reference.registry))
        let index = try referrersAPI(subject, in: reference, client: client) ?? tagIndex(subject, in: reference)
        let all = index?.manifests ?? []
        return artifactType.map { type in all.filter { $0.artifactType == type } } ?? all
    }

    /// The single blob an artifact manifest holds, fetched and verified.
    public func content(of artifact: Descriptor, in reference: Reference) throws -> (Manifest, [UInt8]) {
        let puller = ImagePuller(store: store, session: try settings.session(for: reference.registry), observer: nil)
        var manifestDescriptor = artifact
        manifestDescriptor.mediaType = MediaType.ociManifest
        try puller.fetch([manifestDescriptor], repository: reference.repository)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(artifact.digest), source: "artifact manifest \(artifact.digest)")
        guard let blob = manifest.layers.first else {
            throw Failure(.invalidInput, "artifact \(artifact.digest.short) in \(reference.name) holds no blob")
        }
        try puller.fetch([blob], repository: reference.repository)
        return (manifest, try store.read(blob.digest))
    }

    /// `GET /v2/<name>/referrers/<digest>`: the index, or nil when the registry has no such API.
    private func referrersAPI(_ subject: Digest, in reference: Reference, client: RegistryClient) throws -> Index? {
        let request = HTTPRequest(method: "GET", url: client.url("/v2/\(reference.repository)/referrers/\(subject)"),
                                  headers: [("Accept", MediaType.ociIndex)])
        let response = try client.send(request, scope: RegistryClient.scope(reference.repository, push: false))
        // The spec: a registry with the API answers 200 with an index, even an empty one.
        guard response.status == 200,
              response.header("Content-Type")?.hasPrefix(MediaType.ociIndex) ?? false else { return nil }
        return try CanonicalJSON.decode(Index.self, from: response.body, source: "referrers of \(subject) in \(reference.name)")
    }

    /// The tag schema's index for `subject`, or nil when there is none yet.
    private func tagIndex(_ subject: Digest, in reference: Reference) throws -> Index? {
        var tagged = reference
        tagged.tag = Self.fallbackTag(subject)
        tagged.digest = nil
        let puller = ImagePuller(store: store, session: try settings.session(for: reference.registry), observer: nil)
        guard let root = try puller.rootIfPresent(tagged) else { return nil }
        return try CanonicalJSON.decode(Index.self, from: try store.read(root.digest), source: "referrers index \(tagged)")
    }

    /// The distribution spec's referrers tag: `<alg>-<hex>` (truncated to 128 characters).
    public static func fallbackTag(_ digest: Digest) -> String {
        String("\(digest.algorithm)-\(digest.encoded)".prefix(128))
    }
}
