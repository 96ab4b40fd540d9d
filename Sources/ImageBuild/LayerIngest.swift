import ByteStreams
import ContentStore
import Layering

extension ContentStore {
    /// Streams a new layer into the store: a temp file, renamed to its digest once
    /// complete; on any error the temp file is deleted.
    func ingestLayer(_ produce: (BlobIngest) throws -> LayerBlob) throws -> LayerBlob {
        let ingest = try beginIngest()
        do {
            let blob = try produce(ingest)
            try ingest.commit(digest: blob.descriptor.digest)
            return blob
        } catch {
            ingest.abort()
            throw error
        }
    }
}
