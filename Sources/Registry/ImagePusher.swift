import Foundation
import HTTP
import ByteStreams
import OCI
import ContentStore
import Diagnostics

/// The result of a push, for `--json` and the summary line.
public struct PushResult: Sendable, Codable {
    public var reference: String
    public var digest: Digest
    public var tags: [String]
    public var blobs: [BlobResult]

    public struct BlobResult: Sendable, Codable {
        public var digest: Digest
        public var size: Int64
        /// present | mounted | uploaded
        public var action: String
    }
}

/// Pushes an image from the store: blobs in parallel (HEAD, mount, upload), then
/// the manifest by digest, then each tag. The manifest goes last, so a registry
/// never shows an image whose blobs are missing.
public struct ImagePusher {
    public let store: ContentStore
    public let session: RegistrySession
    public let settings: UploadSettings
    public let observer: TransferObserver?

    public init(store: ContentStore, session: RegistrySession, settings: UploadSettings, observer: TransferObserver?) {
        self.store = store
        self.session = session
        self.settings = settings
        self.observer = observer
    }

    public func push(manifest descriptor: Descriptor, to reference: Reference, extraTags: [String]) throws -> PushResult {
        let bytes = try store.read(descriptor.digest)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes, source: "manifest \(descriptor.digest)")
        let repository = reference.repository
        // Layers of a base pulled from this registry can be mounted instead of uploaded.
        let mountFrom = manifest.annotations?[AnnotationKey.baseName]
            .flatMap { try? Reference(parsing: $0) }
            .flatMap { $0.registry == reference.registry ? $0.repository : nil }

        var seen = Set<Digest>()
        let blobs = ([manifest.config] + manifest.layers).filter { seen.insert($0.digest).inserted }
        for blob in blobs where !store.contains(blob.digest) {
            throw Failure(.missingInput, "blob \(blob.digest.short) of the image is not in the store \(store.root); build the image again")
        }
        let outcomes = Locked<[PushResult.BlobResult]>([])
        let store = self.store, session = self.session, settings = self.settings, observer = self.observer
        try WorkerPool.forEach(blobs, width: settings.parallelBlobs, name: "push") { blob in
            let client = try RegistryClient(session: session)
            var uploader = BlobUploader(client: client, repository: repository, settings: settings, observer: observer)
            uploader.journal = UploadJournal(store: store, registry: session.registry, repository: repository)
            observer?.started(blob, label: "push")
            let isConfig = blob.digest == manifest.config.digest
            // A damaged blob in the store must stop the push before the registry sees it.
            let outcome = try uploader.upload(blob, file: store.blobPath(blob.digest), mountFrom: isConfig ? nil : mountFrom) {
                try store.verify(blob)
            }
            observer?.finished(blob, outcome: outcome)
            outcomes.withLock { $0.append(PushResult.BlobResult(digest: blob.digest, size: blob.size, action: outcome.action)) }
        }

        let client = try RegistryClient(session: session)
        let scope = RegistryClient.scope(repository, push: true)
        var tags: [String] = []
        for target in [descriptor.digest.description] + ([reference.tag].compactMap { $0 } + extraTags) {
            var request = HTTPRequest(method: "PUT", url: client.url("/v2/\(repository)/manifests/\(target)"), body: .bytes(bytes))
            request.setHeader("Content-Type", descriptor.mediaType)
            let response = try client.send(request, scope: scope)
            guard response.status == 201 || response.status == 200 else {
                throw client.failure(response, "manifest \(target) in \(repository)")
            }
            if let reported = response.header("Docker-Content-Digest"), reported != descriptor.digest.description {
                throw Failure(.invalidInput, "registry \(session.registry) stored the manifest under \(reported), not \(descriptor.digest); push again")
            }
            if target != descriptor.digest.description { tags.append(target) }
        }
        return PushResult(reference: "\(reference.name)@\(descriptor.digest)", digest: descriptor.digest, tags: tags,
                          blobs: outcomes.value.sorted { $0.digest < $1.digest })
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
