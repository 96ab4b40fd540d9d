import FoundationEssentials
import Glibc
import HTTP
import ByteStreams
import Diagnostics

/// Sends a blob to a repository while it is still being written (`gantry build
/// --push`): each chunk is PATCHed as soon as the writer is past it, and the
/// closing PUT, which needs the digest, goes once the writer is done. The
/// registry's ingest of a big layer then runs under its compression instead of
/// after it.
///
/// Best effort by design: on any refusal or error it cancels its session and
/// stops, and the regular push that follows (HEAD, then `BlobUploader` from the
/// stored blob, resumable and retried) uploads the blob as if nothing had been
/// tried. A blob that ends up no bigger than one request is left to that push too.
public struct StreamingUpload: Sendable {
    public let session: RegistrySession
    public let repository: String
    public let settings: UploadSettings

    public init(session: RegistrySession, repository: String, settings: UploadSettings) {
        self.session = session
        self.repository = repository
        self.settings = settings
    }

    /// Streams `growing` (read through `path`, another name of the blob being
    /// written) and reports whether the registry now has the blob.
    @discardableResult
    public func run(_ growing: GrowingFile, path: String) -> Bool {
        guard let client = try? RegistryClient(session: session) else { return false }
        return Connection(client: client, repository: repository, settings: settings).run(growing, path: path)
    }
}

/// One streamed upload over one connection.
private struct Connection {
    let client: RegistryClient
    let repository: String
    let settings: UploadSettings

    var scope: String { RegistryClient.scope(repository, push: true) }

    func run(_ growing: GrowingFile, path: String) -> Bool {
        // Wait for more than one request's worth: small blobs are the regular push's.
        let first = growing.wait(for: settings.monolithicLimit + 1)
        if case .failed = first.end { return false }
        if case .complete(let size, _) = first.end, size <= settings.monolithicLimit { return false }
        guard let (opened, minimumChunk) = try? openSession() else { return false }
        var location = opened
        do {
            let chunk = max(settings.chunkSize, minimumChunk)
            var offset: Int64 = 0
            while true {
                let progress = growing.wait(for: offset + chunk)
                switch progress.end {
                case .failed:
                    cancel(location)
                    return false
                case .complete(let size, let digest) where offset >= size:
                    return try close(location, digest: digest)
                default:
                    let length = min(chunk, progress.written - offset)
                    location = try patch(location, path: path, offset: offset, length: length)
                    offset += length
                }
            }
        } catch {
            cancel(location)
            return false
        }
    }

    private func openSession() throws -> (String, Int64) {
        let response = try client.send(UploadRequests.open(client, repository: repository), scope: scope, retrying: true)
        guard let session = UploadRequests.session(from: response, client: client) else {
            throw client.failure(response, "upload session in \(repository)")
        }
        return session
    }

    private func patch(_ location: String, path: String, offset: Int64, length: Int64) throws -> String {
        let response = try client.send(UploadRequests.chunk(location, path: path, offset: offset, length: length),
                                       scope: scope, retrying: false)
        guard response.status == 202, let next = response.header("Location") else {
            throw client.failure(response, "streamed chunk at \(offset) in \(repository)")
        }
        return client.absolute(next)
    }

    private func close(_ location: String, digest: String) throws -> Bool {
        let response = try client.send(HTTPRequest(method: "PUT", url: UploadRequests.closing(location, digest: digest)),
                                       scope: scope, retrying: false)
        guard response.status == 201 || response.status == 204 else {
            throw client.failure(response, "closing the streamed upload of \(digest)")
        }
        // A registry that stored other bytes: the regular push's HEAD finds no blob under our digest and uploads it.
        return response.header("Docker-Content-Digest").map { $0 == digest } ?? true
    }

    private func cancel(_ location: String) {
        _ = try? client.send(UploadRequests.cancel(location), scope: scope, retrying: false)
    }
}
