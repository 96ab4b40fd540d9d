import Foundation
import HTTP
import HTTPTesting
import OCI
import ByteStreams
import ContentStore
@testable import Registry

/// A registry session whose connections are one scripted transport and whose
/// retry waits are recorded, not slept.
final class ScriptedRegistry: Sendable {
    let transport = ScriptedTransport()
    let waits = Locked<[Double]>([])
    let session: RegistrySession

    static let base = "https://registry.test"

    init(attempts: Int = 4, credentials: Credentials? = nil) {
        var retry = RetryPolicy(attempts: attempts, initialDelay: 0.01, maximumDelay: 0.01)
        let waits = self.waits
        retry.sleep = { delay in waits.withLock { $0.append(delay) } }
        let transport = self.transport
        session = RegistrySession(registry: "registry.test", credentials: credentials, options: HTTPOptions(), retry: retry,
                                  environment: [:], connect: { _ in transport })
    }

    var trace: [String] { transport.trace }
    var recordedWaits: [Double] { waits.value }

    func uploader(_ repository: String = "team/app", chunkSize: Int64 = 1024, journal: UploadJournal? = nil) throws -> BlobUploader {
        var settings = UploadSettings()
        settings.chunkSize = chunkSize
        settings.monolithicLimit = chunkSize
        var uploader = BlobUploader(client: try RegistryClient(session: session), repository: repository, settings: settings, observer: nil)
        uploader.journal = journal
        return uploader
    }
}

/// A blob written to a scratch file, with its descriptor.
struct TestBlob {
    let bytes: [UInt8]
    let descriptor: Descriptor
    let path: String

    init(_ size: Int, in scratch: ScratchDirectory, seed: UInt64 = 1) throws {
        bytes = testBytes(size, seed: seed)
        descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest(sha256: SHA256Hasher.hash(bytes)), size: Int64(size))
        path = try scratch.write("blob-\(seed)", bytes)
    }

    var digest: String { descriptor.digest.description }
}
