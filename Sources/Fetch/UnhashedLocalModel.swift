import Glibc
import OCI
import ContentStore
import Diagnostics
import SystemSupport

/// A local model file whose digest no record knows yet (a cold store, or a file
/// written since). A build whose layer cache cannot hit anyway takes its digest
/// from the layer's own read of the file: read once, not twice (hashing 1 GiB
/// first was ~0.8 s before the layer, and its upload, could start).
public struct UnhashedLocalModel: Sendable {
    public let path: String
    public let stamp: LocalFileStamp
    public var size: Int64 { stamp.size }
    let store: ContentStore

    /// The model as `ModelFetcher` would have returned it, once the layer build
    /// hashed the file to `digest`; remembers the digest for the file's stamp, as
    /// hashing it in place would.
    public func fetched(digest: Digest) throws -> FetchedModel {
        try checkUnchanged()
        if !stamp.isRecent(now: time(nil)) {
            ModelCache(store: store).rememberLocal(path: PathName.absolute(path), stamp: stamp, digest: digest, size: size)
        }
        return FetchedModel(digest: digest, size: size, source: path, reused: false, path: path, localStamp: stamp)
    }

    /// Fails if the file was written since it was planned: its bytes and its
    /// digest would not be the same file's.
    public func checkUnchanged() throws {
        guard (try? LocalFileStamp(path: path)) == stamp else {
            throw Failure(.invalidInput, "model \(path) changed while the image was being built; build again once it is complete")
        }
    }
}

extension ModelFetcher {
    /// The local file `source` names when no record knows its digest; nil for
    /// anything else (a directory, a remote source, a file hashed before).
    public func unhashedLocalFile(_ source: ModelSource) throws -> UnhashedLocalModel? {
        guard case .local(let path) = source, PathName.isDirectory(path) == false else { return nil }
        let stamp = try LocalFileStamp(path: path)
        if let known = ModelCache(store: store).lookupLocal(path: PathName.absolute(path)), known.stamp == stamp { return nil }
        return UnhashedLocalModel(path: path, stamp: stamp, store: store)
    }
}
