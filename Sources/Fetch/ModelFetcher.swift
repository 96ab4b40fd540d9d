import FoundationEssentials
import Glibc
import HTTP
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import SystemSupport

/// A model file now in the store.
public struct FetchedModel: Sendable {
    public var digest: Digest
    public var size: Int64
    /// The source, safe to print (secrets redacted).
    public var source: String
    /// True when nothing was downloaded: the store already had this version.
    public var reused: Bool
    /// Where the file is: the store's blob of that digest, or the user's own file
    /// when it was read in place (then `localStamp` is its version when hashed).
    public var path: String
    public var localStamp: LocalFileStamp? = nil
    /// True when the build took the model's layer from the registry layer cache:
    /// nothing was downloaded, and `path` is empty.
    public var fromLayerCache = false
    /// A model that is a local directory (sharded weights, tokenizer files): its
    /// files, by path relative to `path`, each with its own digest; `digest` is then
    /// the SHA-256 of their sorted listing ("path NUL sha256 NUL size" lines).
    public var files: [ModelFile]?

    public struct ModelFile: Sendable, Equatable {
        public var relativePath: String
        public var digest: Digest
        public var size: Int64
        public var stamp: LocalFileStamp?
    }

    public init(digest: Digest, size: Int64, source: String, reused: Bool, path: String,
                localStamp: LocalFileStamp? = nil, fromLayerCache: Bool = false) {
        self.digest = digest
        self.size = size
        self.source = source
        self.reused = reused
        self.path = path
        self.localStamp = localStamp
        self.fromLayerCache = fromLayerCache
    }

    /// For a model read in place: fails if the file was written since it was hashed,
    /// so an image never carries bytes other than the digest it records.
    public func checkUnchanged() throws {
        for file in files ?? [] where file.stamp != nil {
            guard (try? LocalFileStamp(path: path + "/" + file.relativePath)) == file.stamp else {
                throw Failure(.invalidInput, "model file \(path)/\(file.relativePath) changed while the image was being built; build again once it is complete")
            }
        }
        guard let localStamp else { return }
        guard (try? LocalFileStamp(path: path)) == localStamp else {
            throw Failure(.invalidInput, "model \(path) changed while the image was being built; build again once it is complete")
        }
    }
}

/// Brings a model into the content store, addressed by its SHA-256:
/// - with a `sha256:` pin already in the store: nothing to do, no network;
/// - otherwise the source is asked for its current version (ETag/Last-Modified,
///   size) and an unchanged version is reused, so "the latest model" is always what
///   ships yet an unchanged one is never downloaded twice;
/// - a download uses parallel ranged GETs when the source supports ranges, resumes
///   a dropped transfer from the bytes it has, and is verified against the pin
///   before it may enter the store. A failure leaves nothing behind.
public struct ModelFetcher {
    public let store: ContentStore
    public var environment: [String: String]
    public var http = HTTPOptions()
    /// Opens a connection per thread: libcurl, or a scripted client in tests.
    public var connect: HTTPClientFactory = HTTPTransport.factory
    public var retry = RetryPolicy.standard
    public var parallelParts = 4
    public var partSize: Int64 = 16 << 20

    public init(store: ContentStore, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.store = store
        self.environment = environment
    }

    /// What a remote source's current version is called, without downloading it
    /// (one HEAD): its ETag, else its Last-Modified, with its size; nil when the
    /// source names neither (then only its bytes can tell an unchanged version).
    /// `known`: the model itself when this store already downloaded that version
    /// (what `fetch` would give, without asking the source again).
    public func currentVersion(of source: ModelSource) throws -> (name: String, known: FetchedModel?)? {
        if case .local = source { return nil }
        let endpoint = try RemoteEndpoint(source: source, environment: environment, retry: retry, connect: connect)
        let version = try endpoint.probe(try connect(http))
        guard let tag = version.etag.map({ "etag:" + $0 }) ?? version.lastModified.map({ "modified:" + $0 }) else { return nil }
        let known = ModelCache(store: store).lookup(source: source.description)
            .flatMap { record in
                record.matches(version) && store.contains(record.digest)
                    ? FetchedModel(digest: record.digest, size: record.size, source: source.description, reused: true,
                                   path: store.blobPath(record.digest))
                    : nil
            }
        return ("\(tag) size:\(version.size.map(String.init) ?? "?")", known)
    }

    /// `inPlace`: a local file is hashed where it is rather than copied into the
    /// store (a build reads it once more for its layer; `checkUnchanged` after).
    public func fetch(_ source: ModelSource, pin: Digest?, inPlace: Bool = false) throws -> FetchedModel {
        if case .local(let path) = source {
            if PathName.isDirectory(path) == true { return try fetchLocalDirectory(path, pin: pin) }
            return try fetchLocal(path, pin: pin, inPlace: inPlace)
        }
        if let pin, store.contains(pin) {
            return FetchedModel(digest: pin, size: try size(of: store.blobPath(pin)), source: source.description,
                                reused: true, path: store.blobPath(pin))
        }
        let endpoint = try RemoteEndpoint(source: source, environment: environment, retry: retry, connect: connect)
        let transport = try connect(http)
        let version = try endpoint.probe(transport)
        let cache = ModelCache(store: store)
        if let known = cache.lookup(source: source.description), known.matches(version), store.contains(known.digest),
           pin == nil || pin == known.digest {
            return FetchedModel(digest: known.digest, size: known.size, source: source.description, reused: true,
                                path: store.blobPath(known.digest))
        }
        let temp = store.scratchPath(for: .model, suffix: ".part")
        defer { unlink(temp) }
        let digest: Digest
        if version.acceptsRanges, let size = version.size, size > partSize {
            do {
                digest = try RangedDownload(endpoint: endpoint, options: http, connect: connect, path: temp, size: size,
                                            partSize: partSize, width: parallelParts).run()
            } catch is RangesIgnored {
                digest = try StreamDownload(endpoint: endpoint, transport: transport, path: temp, expectedSize: version.size,
                                            resumable: false).run()
            }
        } else {
            digest = try StreamDownload(endpoint: endpoint, transport: transport, path: temp, expectedSize: version.size,
                                        resumable: version.acceptsRanges).run()
        }
        let size = try self.size(of: temp)
        if let pin, pin != digest {
            throw Failure(.invalidInput, "model from \(source) has \(digest), but the recipe pins \(pin); it was not used (update the pin if the new model is intended)")
        }
        // Hashed as it was written: moved into the store without reading it again.
        try store.adopt(file: temp, hashedAs: Descriptor(mediaType: "application/octet-stream", digest: digest, size: size))
        cache.remember(source: source.description, version: version, digest: digest, size: size)
        return FetchedModel(digest: digest, size: size, source: source.description, reused: false, path: store.blobPath(digest))
    }

    /// A local directory, read in place: each regular file's digest (from its stat
    /// stamp's record when unchanged, as for a single file), and the directory's
    /// digest over the sorted listing. Symlinks and special files are refused: a
    /// model directory is plain files.
    private func fetchLocalDirectory(_ path: String, pin: Digest?) throws -> FetchedModel {
        let names: [String]
        do { names = try FileManager.default.subpathsOfDirectory(atPath: path).sorted() } catch {
            throw Failure(.missingInput, "model directory \(path) cannot be read; check its permissions", cause: error)
        }
        var files: [FetchedModel.ModelFile] = []
        var listing: [UInt8] = []
        var reused = true
        for name in names where !name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            let full = path + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { throw SystemError.failure("read", path: full) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFREG: break
            default: throw Failure(.invalidInput, "model directory \(path): \(name) is not a regular file; a model directory holds plain files")
            }
            let file = try fetchLocal(full, pin: nil, inPlace: true)
            reused = reused && file.reused
            files.append(FetchedModel.ModelFile(relativePath: name, digest: file.digest, size: file.size, stamp: file.localStamp))
            listing += Array("\(name)\u{0}\(file.digest)\u{0}\(file.size)\n".utf8)
        }
        guard !files.isEmpty else { throw Failure(.missingInput, "model directory \(path) holds no files; check the path") }
        let digest = Digest(sha256: SHA256Hasher.hash(listing))
        if let pin, pin != digest {
            throw Failure(.invalidInput, "model directory \(path) has \(digest) (over its files' listing), but the recipe pins \(pin); it was not used")
        }
        var fetched = FetchedModel(digest: digest, size: files.reduce(0) { $0 + $1.size }, source: path, reused: reused, path: path)
        fetched.files = files
        return fetched
    }

    /// A local file: its digest taken from the record of its stat stamp when the
    /// file was not written since (no read at all); otherwise hashed in place, or
    /// copied into the store and hashed in the same pass.
    private func fetchLocal(_ path: String, pin: Digest?, inPlace: Bool) throws -> FetchedModel {
        let stamp = try LocalFileStamp(path: path)
        let absolute = PathName.absolute(path)
        let cache = ModelCache(store: store)
        let refuseUnpinned = { (found: Digest) throws in
            if let pin, pin != found {
                throw Failure(.invalidInput, "model \(path) has \(found), but the recipe pins \(pin); it was not used")
            }
        }
        if let known = cache.lookupLocal(path: absolute), known.stamp == stamp, inPlace || store.contains(known.digest) {
            try refuseUnpinned(known.digest)
            return inPlace
                ? FetchedModel(digest: known.digest, size: known.size, source: path, reused: true, path: path, localStamp: stamp)
                : FetchedModel(digest: known.digest, size: known.size, source: path, reused: true, path: store.blobPath(known.digest))
        }
        let blob: Descriptor
        var reused = false
        if inPlace {
            let (sha256, size) = try FileReader.digest(of: path)
            blob = Descriptor(mediaType: "application/octet-stream", digest: Digest(sha256: sha256), size: size)
            try refuseUnpinned(blob.digest)
        } else {
            blob = try store.ingest(file: path, mediaType: "application/octet-stream") { found in
                try refuseUnpinned(found.digest)
                reused = store.contains(found.digest)
            }
        }
        // Trusted next time only if the file did not change while it was read.
        if (try? LocalFileStamp(path: path)) == stamp, !stamp.isRecent(now: time(nil)) {
            cache.rememberLocal(path: absolute, stamp: stamp, digest: blob.digest, size: blob.size)
        }
        return inPlace
            ? FetchedModel(digest: blob.digest, size: blob.size, source: path, reused: false, path: path, localStamp: stamp)
            : FetchedModel(digest: blob.digest, size: blob.size, source: path, reused: reused, path: store.blobPath(blob.digest))
    }

    private func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.failure("read", path: path) }
        return Int64(info.st_size)
    }
}

/// What a source says about the object's current version.
struct RemoteVersion: Codable, Sendable {
    var size: Int64?
    var etag: String?
    var lastModified: String?
    var acceptsRanges: Bool
}
