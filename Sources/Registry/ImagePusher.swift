import FoundationEssentials
import Glibc
import HTTP
import ByteStreams
import OCI
import ContentStore
import Diagnostics
import Threads

/// The result of a push, for `--json` and the summary line.
public struct PushResult: Sendable, Codable {
    public var reference: String
    public var digest: Digest
    public var tags: [String]
    public var blobs: [BlobResult]

    public init(reference: String, digest: Digest, tags: [String], blobs: [BlobResult]) {
        self.reference = reference
        self.digest = digest
        self.tags = tags
        self.blobs = blobs
    }

    public struct BlobResult: Sendable, Codable {
        public var digest: Digest
        public var size: Int64
        /// present | mounted | uploaded
        public var action: String
    }
}

/// Pushes an image from the store: every blob in parallel (HEAD, mount, upload),
/// then each manifest by digest, then the root (the manifest, or the index of a
/// multi-platform image) by digest, then each tag. What refers to something goes
/// up after it, so a registry never shows an image whose parts are missing.
public struct ImagePusher {
    public let store: ContentStore
    public let session: RegistrySession
    public let settings: UploadSettings
    public let observer: TransferObserver?
    /// Fetches base layers a build left in the registry when this push needs their
    /// bytes (not when the registry has them or mounts them); nil: every blob must be in the store.
    public var backfill: LayerBackfill?
    /// Repositories of the destination registry known to hold a blob, to mount it from.
    public var mountHints: [Digest: String] = [:]

    public init(store: ContentStore, session: RegistrySession, settings: UploadSettings, observer: TransferObserver?,
                backfill: LayerBackfill? = nil) {
        self.store = store
        self.session = session
        self.settings = settings
        self.observer = observer
        self.backfill = backfill
    }

    /// One manifest of the push, with the repository its base layers can be mounted from.
    private struct Part {
        var descriptor: Descriptor
        var bytes: [UInt8]
        var manifest: Manifest
    }

    public func push(manifest root: Descriptor, to reference: Reference, extraTags: [String]) throws -> PushResult {
        let rootBytes = try store.read(root.digest)
        let kind = try CanonicalJSON.decode(ManifestKind.self, from: rootBytes, source: "manifest \(root.digest)")
        var parts: [Part] = []
        if kind.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: rootBytes, source: "index \(root.digest)")
            for child in index.manifests {
                guard MediaType.isManifest(child.mediaType) else {
                    throw Failure(.invalidInput, "index \(root.digest.short) lists \(child.digest.short) of type \(child.mediaType), which gantry cannot push")
                }
                let bytes = try store.read(child.digest)
                parts.append(Part(descriptor: child, bytes: bytes,
                                  manifest: try CanonicalJSON.decode(Manifest.self, from: bytes, source: "manifest \(child.digest)")))
            }
        } else {
            parts.append(Part(descriptor: root, bytes: rootBytes,
                              manifest: try CanonicalJSON.decode(Manifest.self, from: rootBytes, source: "manifest \(root.digest)")))
        }
        let repository = reference.repository
        let pushed = PushedBlobs(store: store, registry: session.registry, repository: repository)
        var (blobs, skipped) = try uploadBlobs(of: parts, to: reference, skipping: pushed)

        let client = try RegistryClient(session: session)
        var tags: [String] = []
        func putManifests() throws {
            if kind.isIndex {
                for part in parts { try putManifest(part.bytes, as: part.descriptor, target: part.descriptor.digest.description, client, repository) }
            }
            tags = []
            for target in [root.digest.description] + ([reference.tag].compactMap { $0 } + extraTags) {
                try putManifest(rootBytes, as: root, target: target, client, repository)
                if target != root.digest.description { tags.append(target) }
            }
        }
        do {
            try putManifests()
        } catch let error as RegistryError where !skipped.isEmpty && error.codes.contains(where: { $0.hasSuffix("BLOB_UNKNOWN") }) {
            // A blob recorded as pushed is gone from the registry: forget the records and go the full way.
            pushed.forget(skipped)
            (blobs, skipped) = try uploadBlobs(of: parts, to: reference, skipping: nil)
            try putManifests()
        }
        pushed.remember(blobs.map(\.digest).filter { !skipped.contains($0) })
        return PushResult(reference: "\(reference.name)@\(root.digest)", digest: root.digest, tags: tags, blobs: blobs)
    }

    /// Configs and layers of every part, each once, `settings.parallelBlobs` at a time;
    /// those `pushed` records are not asked about (returned as `skipped`).
    private func uploadBlobs(of parts: [Part], to reference: Reference,
                             skipping pushed: PushedBlobs?) throws -> (blobs: [PushResult.BlobResult], skipped: [Digest]) {
        let repository = reference.repository
        var seen = Set<Digest>()
        var work: [(blob: Descriptor, mountFrom: String?, manifest: Manifest)] = []
        for part in parts {
            // Layers of a base pulled from this registry can be mounted instead of uploaded.
            let mountFrom = part.manifest.annotations?[AnnotationKey.baseName]
                .flatMap { try? Reference(parsing: $0) }
                .flatMap { $0.registry == reference.registry ? $0.repository : nil }
            work.append((part.manifest.config, nil, part.manifest))
            work += part.manifest.layers.map { ($0, self.mountSource(of: $0, registry: reference.registry) ?? mountFrom, part.manifest) }
        }
        work = work.filter { seen.insert($0.blob.digest).inserted }
        var results: [PushResult.BlobResult] = []
        var skipped: [Digest] = []
        if let pushed {
            for (blob, _, _) in work where pushed.contains(blob.digest) {
                skipped.append(blob.digest)
                observer?.finished(blob, outcome: .present)
                results.append(PushResult.BlobResult(digest: blob.digest, size: blob.size, action: "present"))
            }
            work = work.filter { !skipped.contains($0.blob.digest) }
        }
        for (blob, _, manifest) in work where !store.contains(blob.digest) {
            guard backfill != nil, LayerBackfill.mayBeRemote(blob, of: manifest, store: store) else { throw LayerBackfill.lost(blob, store: store) }
        }
        let outcomes = Locked<[PushResult.BlobResult]>([])
        let store = self.store, session = self.session, settings = self.settings, observer = self.observer, backfill = self.backfill
        try WorkerPool.forEach(work, width: settings.parallelBlobs, name: "push") { blob, mountFrom, manifest in
            let client = try RegistryClient(session: session)
            var uploader = BlobUploader(client: client, repository: repository, settings: settings, observer: observer)
            uploader.journal = UploadJournal(store: store, registry: session.registry, repository: repository)
            observer?.started(blob, label: "push")
            // A damaged blob in the store must stop the push before the registry sees it;
            // a base layer left in its registry is fetched only now that its bytes are needed.
            let outcome = try uploader.upload(blob, file: store.blobPath(blob.digest), mountFrom: mountFrom) {
                if let backfill { try backfill.fetch([blob], of: manifest) }
                try store.verify(blob)
            }
            observer?.finished(blob, outcome: outcome)
            outcomes.withLock { $0.append(PushResult.BlobResult(digest: blob.digest, size: blob.size, action: outcome.action)) }
        }
        return ((results + outcomes.value).sorted { $0.digest < $1.digest }, skipped)
    }

    /// A repository of the same registry that holds `blob` for sure: one named by
    /// `mountHints`, or the one recorded for a layer-cache hit.
    private func mountSource(of blob: Descriptor, registry: String) -> String? {
        if let hint = mountHints[blob.digest] { return hint }
        guard let location = RemoteBlobLocation.recorded(blob.digest, in: store), location.registry == registry else { return nil }
        return location.repository
    }

    private func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, target: String, _ client: RegistryClient, _ repository: String) throws {
        var request = HTTPRequest(method: "PUT", url: client.url("/v2/\(repository)/manifests/\(target)"), body: .bytes(bytes))
        request.setHeader("Content-Type", descriptor.mediaType)
        let response = try client.send(request, scope: RegistryClient.scope(repository, push: true))
        guard response.status == 201 || response.status == 200 else {
            throw client.failure(response, "manifest \(target) in \(repository)")
        }
        if let reported = response.header("Docker-Content-Digest"), reported != descriptor.digest.description {
            throw Failure(.invalidInput, "registry \(session.registry) stored the manifest under \(reported), not \(descriptor.digest); push again")
        }
    }
}

extension TransferOutcome {
    var action: String {
        switch self {
        case .present: return "present"
        case .mounted: return "mounted"
        case .uploaded: return "uploaded"
        case .downloaded: return "downloaded"
        }
    }
}
