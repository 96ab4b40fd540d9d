import HTTP
import TestSupport
import ContentStore
@testable import Registry

extension ScriptedRegistry {
    /// A blob uploader on this registry's session; chunks of `chunkSize`, which is also the monolithic limit.
    func uploader(_ repository: String = "team/app", chunkSize: Int64 = 1024, journal: UploadJournal? = nil) throws -> BlobUploader {
        var settings = UploadSettings()
        settings.chunkSize = chunkSize
        settings.monolithicLimit = chunkSize
        var uploader = BlobUploader(client: try RegistryClient(session: session), repository: repository, settings: settings, observer: nil)
        uploader.journal = journal
        return uploader
    }
}
