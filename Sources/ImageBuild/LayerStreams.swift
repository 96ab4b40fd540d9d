import Glibc
import OCI
import ByteStreams
import ContentStore
import Registry
import Threads

/// `gantry build --push`: every layer the build writes starts going up to the
/// registry while it is written (`StreamingUpload`), and the next layer builds
/// while the last one is still uploading. The push after the build then finds
/// these blobs present. Each upload reads a second name of the layer's ingest
/// file, so the store's commit (rename) does not pull the file from under it.
final class LayerStreams: Sendable {
    private let store: ContentStore
    private let reference: Reference
    private let settings: RegistrySettings
    private let pool: WorkerPool
    /// Layers build in parallel, so the list of uploads is shared.
    private let running = Locked<[(file: GrowingFile, done: Pending<Void>)]>([])

    init(store: ContentStore, reference: Reference, settings: RegistrySettings) {
        self.store = store
        self.reference = reference
        self.settings = settings
        pool = WorkerPool(threads: max(1, settings.upload.parallelBlobs), name: "stream")
    }

    /// Starts streaming the blob `ingest` is writing; nil when it cannot (the
    /// regular push uploads it then).
    func start(_ ingest: BlobIngest) -> GrowingFile? {
        let path = store.scratchPath(for: .stream)
        guard let session = try? settings.session(for: reference.registry), (try? ingest.linkPartial(to: path)) != nil else {
            unlink(path)
            return nil
        }
        let file = GrowingFile(), done = Pending<Void>()
        let upload = StreamingUpload(session: session, repository: reference.repository, settings: settings.upload)
        pool.submit {
            defer { unlink(path); done.fulfil(()) }
            upload.run(file, path: path)
        }
        running.withLock { $0.append((file, done)) }
        return file
    }

    /// Waits for every upload to end. After a failed build, `abandon` first stops
    /// those still waiting for bytes (they cancel their sessions).
    func finish(abandon: Bool) {
        let uploads = running.withLock { uploads in
            defer { uploads = [] }
            return uploads
        }
        if abandon { uploads.forEach { $0.file.fail() } }
        uploads.forEach { $0.done.wait() }
        pool.shutdown()
    }
}
