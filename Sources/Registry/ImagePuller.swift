import FoundationEssentials
import Glibc
import HTTP
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import Threads

/// Reads images from a registry into the store: manifests and indexes checked
/// against their digests, blobs streamed to disk (never into memory), verified,
/// and skipped when the store already has them. Which manifest of an index to
/// take is decided above (Images' `RegistrySource`, `PlatformResolver`).
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

    /// The manifest or index `reference` names (tag, else `latest`, or digest), now in the store.
    public func root(_ reference: Reference) throws -> Descriptor {
        let client = try RegistryClient(session: session)
        let target = reference.digest?.description ?? reference.tag ?? "latest"
        return try fetchManifest(client, reference.repository, target, expected: reference.digest).0
    }

    /// Brings manifests (by digest) and blobs of `repository` into the store, blobs
    /// in parallel; what the store has is skipped.
    public func fetch(_ descriptors: [Descriptor], repository: String) throws {
        var seen = Set<Digest>()
        let missing = descriptors.filter { !self.store.contains($0.digest) && seen.insert($0.digest).inserted }
        // Manifests come from /manifests/ (a registry may not serve them as blobs), one at a time.
        let isManifest = { (descriptor: Descriptor) in MediaType.isManifest(descriptor.mediaType) || MediaType.isIndex(descriptor.mediaType) }
        let manifests = missing.filter(isManifest)
        if !manifests.isEmpty {
            let client = try RegistryClient(session: session)
            for manifest in manifests {
                _ = try fetchManifest(client, repository, manifest.digest.description, expected: manifest.digest, mediaType: manifest.mediaType)
            }
        }
        let store = self.store, session = self.session, observer = self.observer
        try WorkerPool.forEach(missing.filter { !isManifest($0) }, width: parallelBlobs, name: "pull") { blob in
            observer?.started(blob, label: "pull")
            try ImagePuller.download(blob, repository: repository, client: try RegistryClient(session: session), store: store, observer: observer)
            observer?.finished(blob, outcome: .downloaded)
        }
    }

    /// The manifest or index `reference` names, now in the store, or nil when the
    /// registry has no such tag (a signature or referrers tag not written yet).
    public func rootIfPresent(_ reference: Reference) throws -> Descriptor? {
        do {
            return try root(reference)
        } catch let error as RegistryError where error.status == 404 {
            return nil
        }
    }

    /// What a tag points at now, by a HEAD request (nothing is downloaded); nil when
    /// the tag does not exist or the registry does not say.
    public func currentDigest(_ reference: Reference) throws -> Digest? {
        let client = try RegistryClient(session: session)
        let target = reference.tag ?? "latest"
        let request = HTTPRequest(method: "HEAD", url: client.url("/v2/\(reference.repository)/manifests/\(target)"), headers: [("Accept", Self.accept)])
        let response = try client.send(request, scope: RegistryClient.scope(reference.repository, push: false))
        guard response.status == 200 else {
            if response.status == 404 { return nil }
            throw client.failure(response, "manifest \(reference.repository):\(target)")
        }
        return response.header("Docker-Content-Digest").flatMap { try? Digest($0) }
    }

    /// The digest a tag points at now (an index's own digest for a multi-platform image).
    public func resolveDigest(_ reference: Reference) throws -> Digest {
        if let digest = reference.digest { return digest }
        return try root(reference).digest
    }

    /// GETs a manifest, checks it against the digest asked for (or the one the
    /// registry reports), and stores it.
    private func fetchManifest(_ client: RegistryClient, _ repository: String, _ target: String,
                               expected: Digest?, mediaType known: String? = nil) throws -> (Descriptor, [UInt8]) {
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
        let mediaType = known ?? response.header("Content-Type")?.split(separator: ";").first.map(String.init)
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
