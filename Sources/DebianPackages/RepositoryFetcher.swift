import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import HTTP

/// Fetches what apt fetches for `apt-get update`, trusting what apt trusts: a
/// suite's `InRelease` checked by gpgv against the repository's keyring, then
/// each component's `Packages` index for one architecture, checked against the
/// SHA-256 the verified Release lists (from `by-hash/` when the suite offers it)
/// and kept in the store under that digest. Nothing unverified is kept or used.
public struct RepositoryFetcher: Sendable {
    public let store: ContentStore
    public var http = HTTPOptions()
    public var connect: HTTPClientFactory = HTTPTransport.factory
    public var retry = RetryPolicy()
    public var now: @Sendable () -> Date = { Date() }

    public init(store: ContentStore) { self.store = store }

    /// One suite of one repository as fetched: its Release's date and digest, and
    /// each component's `Packages` index (a blob in the store, maybe compressed).
    public struct FetchedSuite: Sendable, Codable, Hashable {
        public var uri: String
        public var suite: String
        public var date: String?
        /// The verified Release text's digest: what the package layer's key and the lock record.
        public var release: Digest
        public var indexes: [Index]

        public struct Index: Sendable, Codable, Hashable {
            public var component: String
            public var path: String
            public var blob: Digest
        }
    }

    /// `keys`: the keyring files the source must be signed with (name for messages, bytes).
    public func fetch(_ source: AptSource, architecture: String, keys: [(name: String, bytes: [UInt8])]) throws -> FetchedSuite {
        let transport = try connect(http)
        let what = "\(source.distsURL)/InRelease"
        var signed = try get(source.distsURL + "/InRelease", transport: transport, limit: 32 << 20)
        let verifier = ReleaseSignature(directory: store.scratchPath(for: .packages))
        let text: [UInt8]
        if let inRelease = signed {
            text = try verifier.verifiedText(of: inRelease, keys: keys, describedAs: what)
        } else {
            // Older repositories: Release with a detached Release.gpg.
            guard let release = try get(source.distsURL + "/Release", transport: transport, limit: 32 << 20) else {
                throw Failure(.missingInput, "\(source.distsURL) has no InRelease or Release (404); check the repository URL and suite '\(source.suite)'")
            }
            guard let signature = try get(source.distsURL + "/Release.gpg", transport: transport, limit: 1 << 20) else {
                throw Failure(.invalidInput, "\(source.distsURL)/Release is not signed (no InRelease, no Release.gpg); gantry, like apt, uses no unsigned repository")
            }
            text = try verifier.verifiedText(of: release, detachedSignature: signature, keys: keys, describedAs: source.distsURL + "/Release")
            signed = release
        }
        let release = try ReleaseFile(text: String(decoding: text, as: UTF8.self), describedAs: what)
        if let validUntil = release.validUntil, validUntil < now() {
            throw Failure(.invalidInput, "\(what) expired (Valid-Until: \(release.fields["Valid-Until"] ?? "")); the mirror is stale: use a current one")
        }
        var indexes: [FetchedSuite.Index] = []
        for component in source.components {
            let directory = "\(component)/binary-\(architecture)"
            // The smallest form the Release lists, as apt prefers.
            guard let name = ["Packages.xz", "Packages.gz", "Packages"].first(where: { release.files["\(directory)/\($0)"] != nil }) else {
                if source.components.count > 1 { continue }  // a component without this architecture
                throw Failure(.missingInput, "\(what) lists no \(directory)/Packages; check the component and that the repository serves \(architecture)")
            }
            let path = "\(directory)/\(name)"
            let (hex, size) = release.files[path]!
            let digest = try Digest("sha256:" + hex)
            if !store.contains(digest) {
                let url = release.acquireByHash ? "\(source.distsURL)/\(directory)/by-hash/SHA256/\(hex)" : "\(source.distsURL)/\(path)"
                try download(url, into: digest, size: size, transport: transport)
            }
            indexes.append(.init(component: component, path: path, blob: digest))
        }
        guard !indexes.isEmpty else {
            throw Failure(.missingInput, "\(what) has no Packages index for \(architecture) in \(source.components.joined(separator: ", "))")
        }
        return FetchedSuite(uri: source.uri, suite: source.suite, date: release.date,
                            release: Digest(sha256: SHA256Hasher.hash(text)), indexes: indexes)
    }

    /// A small file's bytes, or nil for 404/403 (as apt falls back from InRelease).
    private func get(_ url: String, transport: any HTTPClient, limit: Int) throws -> [UInt8]? {
        let response = try exchange(url) { try transport.perform(HTTPRequest(method: "GET", url: url), destination: .memory(limit: limit)) }
        if response.status == 404 || response.status == 403 { return nil }
        guard response.isSuccess else {
            throw Failure(.unavailable, "\(Redactor.url(url)) answered \(response.status); check the repository URL")
        }
        return response.body
    }

    /// Downloads a file into the store, kept only when it has the digest and size
    /// that `listedBy` (the signed Release, or the index it verified) names.
    public func download(_ url: String, into digest: Digest, size: Int64, listedBy: String = "its signed Release",
                         transport: any HTTPClient) throws {
        let shown = Redactor.url(url)
        try retry.run { _ -> AttemptOutcome<Void> in
            let ingest = try store.beginIngest()
            defer { ingest.abort() }
            let digesting = DigestingSink(next: ingest)
            let response: HTTPResponse
            do {
                response = try transport.perform(HTTPRequest(method: "GET", url: url), destination: .sink(digesting), progress: nil)
            } catch where RetryPolicy.isTransient(error) {
                return .retry(error)
            }
            if RetryPolicy.isTransient(status: response.status) {
                return .retry(Failure(.unavailable, "\(shown) answered \(response.status)"), retryAfter: response.header("Retry-After"))
            }
            guard response.isSuccess else {
                throw Failure(response.status == 404 ? .missingInput : .unavailable, "\(shown) answered \(response.status); the mirror may be mid-update: try again")
            }
            let got = Digest(sha256: digesting.finish())
            guard got == digest, digesting.count == size else {
                throw Failure(.invalidInput, "\(shown) does not match the SHA-256 \(listedBy) lists (expected \(digest.short), \(size) bytes; got \(got.short), \(digesting.count) bytes); nothing was kept")
            }
            try ingest.commit(digest: digest)
            return .done(())
        }
    }

    private func exchange(_ url: String, _ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do { return try retry.run(body) } catch {
            throw Failure(.unavailable, "cannot reach \(Redactor.url(url)): \(error)", cause: error)
        }
    }
}
