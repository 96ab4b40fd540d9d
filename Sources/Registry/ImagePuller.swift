import Foundation
import HTTP
import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// A manifest fetched from a registry, its blobs now in the store.
public struct PulledImage: Sendable {
    public var descriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig
}

/// Pulls an image into the store: tag → manifest or index → the wanted platform,
/// every digest and size verified, blobs streamed to disk (never into memory) and
/// skipped when the store already has them.
public struct ImagePuller {
    public let store: ContentStore
    public let session: RegistrySession
    public let parallelBlobs: Int
    public let observer: TransferObserver?

    public init(store: ContentStore, session: RegistrySession, parallelBlobs: Int = 3, observer: TransferObserver?) {
        self.store = store
        self.session = session
        self.parallelBlobs = parallelBlobs
        self.observer = observer
    }

    static let accept = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].joined(separator: ", ")

    /// Only the manifest (resolved to `platform`) and config, for `gantry inspect`.
    public func pullManifestAndConfig(_ reference: Reference, platform: Platform) throws -> (manifest: [UInt8], config: [UInt8], digest: Digest) {
        let client = try RegistryClient(session: session)
        let (descriptor, bytes) = try resolveManifest(client, reference, platform: platform)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes, source: "manifest of \(reference)")
        if !store.contains(manifest.config.digest) {
            try ImagePuller.download(manifest.config, repository: reference.repository, client: client, store: store, observer: nil)
        }
        return (bytes, try store.read(manifest.config.digest), descriptor.digest)
    }

    /// The digest a tag points at now (an index's own digest for a multi-platform image).
    public func resolveDigest(_ reference: Reference) throws -> Digest {
        if let digest = reference.digest { return digest }
        let client = try RegistryClient(session: session)
        return try fetchManifest(client, reference.repository, reference.tag ?? "latest", expected: nil).0.digest
    }

    public func pull(_ reference: Reference, platform: Platform) throws -> PulledImage {
        let client = try RegistryClient(session: session)
        let (descriptor, bytes) = try resolveManifest(client, reference, platform: platform)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes, source: "manifest of \(reference)")
        let blobs = [manifest.config] + manifest.layers
        let store = self.store, session = self.session, observer = self.observer
        let repository = reference.repository
        try WorkerPool.forEach(blobs.filter { !store.contains($0.digest) }, width: parallelBlobs, name: "pull") { blob in
            observer?.started(blob, label: "pull")
            try ImagePuller.download(blob, repository: repository, client: try RegistryClient(session: session), store: store, observer: observer)
            observer?.finished(blob, outcome: .downloaded)
        }
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try store.read(manifest.config.digest), source: "config of \(reference)")
        return PulledImage(descriptor: descriptor, manifest: manifest, config: config)
    }

    /// Tag or digest → manifest; an index is resolved to the manifest for `platform`.
    private func resolveManifest(_ client: RegistryClient, _ reference: Reference, platform: Platform) throws -> (Descriptor, [UInt8]) {
        let target = reference.digest?.description ?? reference.tag ?? "latest"
        var (descriptor, bytes) = try fetchManifest(client, reference.repository, target, expected: reference.digest)
        let kind = try CanonicalJSON.decode(ManifestKind.self, from: bytes, source: "manifest of \(reference)")
        if kind.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: bytes, source: "index of \(reference)")
            guard let match = index.manifests.first(where: { MediaType.isManifest($0.mediaType) && ($0.platform?.satisfies(platform) ?? false) }) else {
                let offered = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw Failure(.missingInput, "\(reference) has no image for \(platform) (it has: \(offered)); choose another base or --platform")
            }
            (descriptor, bytes) = try fetchManifest(client, reference.repository, match.digest.description, expected: match.digest)
        }
        return (descriptor, bytes)
    }

    /// GETs a manifest, checks it against the digest asked for (or the one the
    /// registry reports), and stores it.
    private func fetchManifest(_ client: RegistryClient, _ repository: String, _ target: String,
                               expected: Digest?) throws -> (Descriptor, [UInt8]) {
        let request = HTTPRequest(method: "GET", url: client.url("/v2/\(repository)/manifests/\(target)"), headers: [("Accept", Self.accept)])
        let response = try client.send(request, scope: RegistryClient.scope(repository, push: false))
        guard response.status == 200 else { throw client.failure(response, "manifest \(repository):\(target)") }
        let actual = Digest(sha256: SHA256Hasher.hash(response.body))
        if let expected, expected != actual {
            throw Failure(.invalidInput, "registry \(session.registry) sent a manifest for \(repository)@\(expected) whose digest is \(actual); refusing it")
        }
        if let reported = response.header("Docker-Content-Digest"), let digest = try? Digest(reported), digest != actual {
            throw Failure(.invalidInput, "registry \(session.registry) reports digest \(reported) for \(repository):\(target) but the bytes hash to \(actual)")
        }
        let mediaType = response.header("Content-Type")?.split(separator: ";").first.map(String.init)
            ?? (try? CanonicalJSON.decode(ManifestKind.self, from: response.body, source: "manifest"))?.mediaType
            ?? MediaType.ociManifest
        let descriptor = try store.put(response.body, mediaType: mediaType)
        return (descriptor, response.body)
    }

    /// Streams one blob into the store, verifying digest and size; a failed or
    /// corrupt attempt is thrown away and the blob fetched again, under the session's
    /// one retry budget.
    static func download(_ blob: Descriptor, repository: String, client: RegistryClient, store: ContentStore,
                         observer: TransferObserver?) throws {
        try client.session.retry.run { _ -> AttemptOutcome<Void> in
            let ingest = try store.beginIngest()
            defer { ingest.abort() }  // does nothing once committed
            let digesting = DigestingSink(next: ingest)
            let response: HTTPResponse
            do {
                response = try client.send(HTTPRequest(method: "GET", url: client.url("/v2/\(repository)/blobs/\(blob.digest)")),
                                           scope: RegistryClient.scope(repository, push: false),
                                           destination: .sink(digesting), retrying: false) { observer?.advanced(blob, bytes: $0) }
            } catch where RetryPolicy.isTransient(error) {
                return .retry(error)
            }
            guard response.status == 200 else {
                let failure = client.failure(response, "blob \(blob.digest.short) of \(repository)")
                guard RetryPolicy.isTransient(status: response.status) else { throw failure }
                return .retry(failure, retryAfter: response.header("Retry-After"))
            }
            let actual = Digest(sha256: digesting.finish())
            guard actual == blob.digest, digesting.count == blob.size else {
                return .retry(Failure(.invalidInput, "blob \(blob.digest.short) from \(client.session.registry) arrived as \(actual.short), \(digesting.count) bytes"))
            }
            try ingest.commit(digest: actual)
            return .done(())
        }
    }
}
