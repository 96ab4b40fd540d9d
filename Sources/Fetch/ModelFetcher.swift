import FoundationEssentials
import Glibc
import HTTP
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import SystemSupport
import Threads

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
    /// A model that is a set of files — a local directory, or a prefix in blob
    /// storage (then `path` is a directory of links to the store's blobs, made for
    /// this command and removed at its exit) — its files, by path relative to
    /// `path`, each with its own digest; `digest` is then the SHA-256 of their
    /// sorted listing ("path NUL sha256 NUL size" lines).
    public var files: [ModelFile]?
    /// For a set from blob storage: how many of its files were downloaded (the rest
    /// were in the store as the listing's versions).
    public var downloadedFiles = 0
    /// For a local directory: files in it that `include`/`exclude` left out of the
    /// model (a layer built from the directory must leave them out too).
    public var leftOut: [String] = []
    /// For a remote single file: the version the source named (`etag:…` or
    /// `modified:…`), what gantry.lock records beside the digest.
    public var identity: String?
    /// Read where it is (a local file or directory), not downloaded.
    public var isLocal: Bool { localStamp != nil || (files?.contains { $0.stamp != nil } ?? false) }

    public struct ModelFile: Sendable, Equatable {
        public var relativePath: String
        public var digest: Digest
        public var size: Int64
        public var stamp: LocalFileStamp?
        /// For a file of a set in blob storage: the ETag its listing gave.
        public var identity: String?

        public init(relativePath: String, digest: Digest, size: Int64, stamp: LocalFileStamp?, identity: String? = nil) {
            self.relativePath = relativePath
            self.digest = digest
            self.size = size
            self.stamp = stamp
            self.identity = identity
        }
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

    /// A local directory's model from its files' digests.
    public static func localSet(_ path: String, files: [ModelFile], leftOut: [String], reused: Bool) -> FetchedModel {
        var fetched = FetchedModel(digest: setDigest(files), size: files.reduce(0) { $0 + $1.size }, source: path, reused: reused, path: path)
        fetched.files = files
        fetched.leftOut = leftOut
        return fetched
    }

    /// A set's digest: the SHA-256 of its files' sorted "path NUL sha256 NUL size" lines.
    public static func setDigest(_ files: [ModelFile]) -> Digest {
        // Line by line into the hasher: the listing of a large set is never one string.
        let hasher = SHA256Hasher()
        for file in files.sorted(by: { $0.relativePath < $1.relativePath }) {
            hasher.update(Array("\(file.relativePath)\u{0}\(file.digest)\u{0}\(file.size)\n".utf8))
        }
        return Digest(sha256: hasher.finish())
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
public struct ModelFetcher: Sendable {
    public let store: ContentStore
    public var environment: [String: String]
    public var http = HTTPOptions()
    /// Opens a connection per thread: libcurl, or a scripted client in tests.
    public var connect: HTTPClientFactory = HTTPTransport.factory
    public var retry = RetryPolicy.standard
    public var parallelParts = 4
    public var partSize: Int64 = 16 << 20
    /// A prefix's files fetched side by side (each with its own ranged parts).
    public var parallelFiles = 4
    /// Which files of a prefix to keep (`include:`/`exclude:`), by name relative to it.
    public var selecting: @Sendable (String) -> Bool = { _ in true }
    /// Hears how far a prefix's listing and downloads have come, at most every 2 s.
    public var setProgress: (@Sendable (SetProgress) -> Void)?
    /// The least time between two `setProgress` reports.
    public var setProgressInterval: Duration = .seconds(2)

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
        if source.isPrefix { return nil }  // a set's version is its listing (see fetchSet)
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
        if source.isPrefix { return try fetchSet(source, pin: pin) }
        if let pin, store.contains(pin) {
            return FetchedModel(digest: pin, size: try size(of: store.blobPath(pin)), source: source.description,
                                reused: true, path: store.blobPath(pin))
        }
        let endpoint = try RemoteEndpoint(source: source, environment: environment, retry: retry, connect: connect)
        let transport = try connect(http)
        return try fetchVersion(try endpoint.probe(transport), of: endpoint, transport: transport, pin: pin)
    }

    /// The version `version` of a remote file: reused when this store downloaded it
    /// before (same ETag or Last-Modified, same size), else downloaded and verified.
    private func fetchVersion(_ version: RemoteVersion, of endpoint: RemoteEndpoint, transport: any HTTPClient,
                              pin: Digest?) throws -> FetchedModel {
        let source = endpoint.source
        let cache = ModelCache(store: store)
        if let known = cache.lookup(source: source.description), known.matches(version), store.contains(known.digest),
           pin == nil || pin == known.digest {
            var fetched = FetchedModel(digest: known.digest, size: known.size, source: source.description, reused: true,
                                       path: store.blobPath(known.digest))
            fetched.identity = version.identity
            return fetched
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
        var fetched = FetchedModel(digest: digest, size: size, source: source.description, reused: false, path: store.blobPath(digest))
        fetched.identity = version.identity
        return fetched
    }

    /// A prefix in blob storage, as a local directory model is: one listing, then
    /// each file on its own — reused when the store has the version the listing
    /// names (ETag and size: no request at all), else downloaded as that version
    /// (`If-Match`), `parallelFiles` side by side. The set's digest is over the
    /// sorted listing of names and digests, as for a directory, and its files are
    /// linked (not copied) into a directory for the build to read.
    private func fetchSet(_ source: ModelSource, pin: Digest?) throws -> FetchedModel {
        try fetchSet(try listSet(source), pin: pin)
    }

    /// A prefix's files as listed now (selected by `selecting`), before any is fetched.
    public func listSet(_ source: ModelSource) throws -> ModelSetListing {
        let listing = try BlobSetListing(source: source, environment: environment, retry: retry, connect: connect)
        let throttle = setProgress.map { SetProgressThrottle(interval: setProgressInterval, report: $0) }
        return ModelSetListing(listing: listing, files: try listing.list(try connect(http), selecting: selecting) { throttle?.note(.listed($0)) })
    }

    /// The listed files as a set: those in `known` (digests a registry layer cache
    /// recorded for exactly these versions) are taken as they are and not fetched;
    /// the others are fetched and linked into the set's directory.
    public func fetchSet(_ listed: ModelSetListing, pin: Digest?, known: [String: FetchedModel.ModelFile] = [:]) throws -> FetchedModel {
        let source = listed.listing.source
        // Only what the set keeps of each file, in one slot per listed file (not its
        // FetchedModel, nor copies per step): a prefix may hold tens of thousands.
        let slots = Locked<[FetchedModel.ModelFile?]>(listed.files.map { known[$0.name] })
        let missing = listed.files.indices.filter { slots.value[$0] == nil }
        let downloaded = Locked(0), done = Locked(listed.files.count - missing.count)
        let throttle = setProgress.map { SetProgressThrottle(interval: setProgressInterval, report: $0) }
        let http = self.http, connect = self.connect, listing = listed.listing
        // Files side by side share the connections one file would use (4): as fast on
        // the wire, and each connection's buffers and hash thread cost memory.
        let width = max(1, min(parallelFiles, missing.count))
        var perFile = self
        perFile.parallelParts = max(1, parallelParts / width)
        try WorkerPool.forEach(missing, width: width, name: "model-file") { [perFile] index in
            let blob = listed.files[index]
            let version = RemoteVersion(size: blob.size, etag: blob.etag, lastModified: nil, acceptsRanges: true)
            let file = try perFile.fetchVersion(version, of: listing.endpoint(for: blob), transport: try connect(http), pin: nil)
            slots.withLock { $0[index] = FetchedModel.ModelFile(relativePath: blob.name, digest: file.digest, size: file.size, stamp: nil,
                                                                 identity: blob.etag.map { "etag:" + $0 }) }
            let count = downloaded.withLock { count in
                if !file.reused { count += 1 }
                return count
            }
            throttle?.note(.files(done: done.withLock { $0 += 1; return $0 }, total: listed.files.count, downloaded: count))
        }
        let files = try slots.withLock { slots in
            defer { slots = [] }
            return try slots.enumerated().map { index, file in
                guard let file else { throw Failure(.internalFailure, "model file \(listed.files[index].name) of \(source) was not fetched; this is a bug in gantry") }
                return file
            }
        }
        let digest = FetchedModel.setDigest(files)
        if let pin, pin != digest {
            throw Failure(.invalidInput, "model source \(source) has \(digest) (over its files' listing), but the recipe pins \(pin); it was not used (update the pin if the new files are intended)")
        }
        let present = { (file: FetchedModel.ModelFile) in known[file.relativePath] == nil }
        var set = FetchedModel(digest: digest, size: files.reduce(0) { $0 + $1.size }, source: source.description,
                               reused: downloaded.value == 0, path: try linkedDirectory(of: files, where: present))
        set.files = files
        set.downloadedFiles = downloaded.value
        set.fromLayerCache = missing.isEmpty
        return set
    }

    /// A directory holding each file under its name, hard-linked to its blob (the
    /// store's file system, so no bytes are copied), mode 0644 whatever the umask:
    /// the layers built from it must not depend on the machine. Removed at exit.
    private func linkedDirectory(of files: [FetchedModel.ModelFile], where included: (FetchedModel.ModelFile) -> Bool) throws -> String {
        let directory = store.scratchPath(for: .modelSet)
        guard mkdir(directory, 0o755) == 0 else { throw SystemError.failure("create directory", path: directory) }
        ExitCleanup.remove(directory)
        for file in files where included(file) {
            let target = directory + "/" + file.relativePath
            var parent = directory
            for component in file.relativePath.split(separator: "/").dropLast() {
                parent += "/" + component
                guard mkdir(parent, 0o755) == 0 || errno == EEXIST else { throw SystemError.failure("create directory", path: parent) }
            }
            if link(store.blobPath(file.digest), target) != 0 {
                guard errno == EMLINK else { throw SystemError.failure("link", path: target) }
                // One inode has as many names as ext4 allows: a copy for the rest.
                let copy = try FileDescriptorSink(creating: target, exclusive: true, describedAs: target)
                try FileReader.forEachChunk(of: store.blobPath(file.digest)) { try copy.write($0) }
                try copy.close()
            }
            guard chmod(target, 0o644) == 0 else { throw SystemError.failure("write", path: target) }
        }
        return directory
    }

    /// A local directory, read in place: each regular file's digest (from its stat
    /// stamp's record when unchanged, as for a single file), and the directory's
    /// digest over the sorted listing. Symlinks and special files are refused: a
    /// model directory is plain files.
    private func fetchLocalDirectory(_ path: String, pin: Digest?) throws -> FetchedModel {
        let listing = try listLocalDirectory(path)
        var reused = true
        let files = try listing.files.map { listed in
            let (file, known) = try fetchLocalFile(listed.name, in: path)
            reused = reused && known
            return file
        }
        let fetched = FetchedModel.localSet(path, files: files, leftOut: listing.leftOut, reused: reused)
        if let pin, pin != fetched.digest {
            throw Failure(.invalidInput, "model directory \(path) has \(fetched.digest) (over its files' listing), but the recipe pins \(pin); it was not used")
        }
        return fetched
    }

    /// A local model directory's files, sorted by path relative to it, with their
    /// sizes as listed: the regular files `selecting` keeps (hidden ones never), and
    /// those it left out.
    public func listLocalDirectory(_ path: String) throws -> (files: [(name: String, size: Int64)], leftOut: [String]) {
        let names: [String]
        do { names = try FileManager.default.subpathsOfDirectory(atPath: path).sorted() } catch {
            throw Failure(.missingInput, "model directory \(path) cannot be read; check its permissions", cause: error)
        }
        var kept: [(name: String, size: Int64)] = []
        var leftOut: [String] = []
        for name in names where !name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            let full = path + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { throw SystemError.failure("read", path: full) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: continue
            case _ where !selecting(name): leftOut.append(name); continue
            case S_IFREG: kept.append((name, Int64(info.st_size)))
            default: throw Failure(.invalidInput, "model directory \(path): \(name) is not a regular file; a model directory holds plain files")
            }
        }
        guard !kept.isEmpty else { throw Failure(.missingInput, "model directory \(path) holds no files (none selected by include/exclude, or none at all); check the path and the patterns") }
        return (kept, leftOut)
    }

    /// One file of a local model directory as `fetch` would give it (hashed in place,
    /// or its digest taken from the record of its stamp), as a file of the set.
    public func fetchLocalFile(_ relativePath: String, in directory: String) throws -> (file: FetchedModel.ModelFile, reused: Bool) {
        let file = try fetchLocal(directory + "/" + relativePath, pin: nil, inPlace: true)
        return (FetchedModel.ModelFile(relativePath: relativePath, digest: file.digest, size: file.size, stamp: file.localStamp), file.reused)
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

/// A prefix's files as its listing named them, before any was fetched.
public struct ModelSetListing: Sendable {
    let listing: BlobSetListing
    /// Names relative to the prefix, sorted, with their listed sizes and ETags.
    public let files: [ListedBlob]

    /// What names these files' versions for a cache key: each file's source, ETag
    /// and size; nil when a file has no ETag (then nothing but its bytes can tell
    /// a new version, and no key may stand for it).
    public func identity(of files: [ListedBlob]) -> String? {
        guard files.allSatisfy({ $0.etag != nil }) else { return nil }
        return files.map { "\(listing.fileSource(for: $0)) \($0.etag ?? "") \($0.size)" }.joined(separator: "\n")
    }
}

/// What a source says about the object's current version.
struct RemoteVersion: Codable, Sendable {
    var size: Int64?
    var etag: String?
    var lastModified: String?
    var acceptsRanges: Bool

    /// How a lock names this version: `etag:…`, else `modified:…`.
    var identity: String? { etag.map { "etag:" + $0 } ?? lastModified.map { "modified:" + $0 } }
}
