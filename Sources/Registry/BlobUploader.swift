import Foundation
import HTTP
import ContentStore
import OCI
import Diagnostics

/// How blobs go up.
public struct UploadSettings: Sendable {
    /// PATCH size for chunked uploads. MiB-sized: 64 KiB chunks made a 500 MB ACR
    /// push take 28 minutes (dotnet/sdk-container-builds#412).
    public var chunkSize: Int64 = 16 << 20
    /// Blobs up to this size go in one PUT (ACR refuses single requests over ~20 MB
    /// with 413, goharbor/harbor#23015, so bigger ones are always chunked).
    public var monolithicLimit: Int64 = 16 << 20
    /// Always one PUT, for registries without chunked upload (Google Artifact Registry).
    public var monolithicOnly = false
    public var parallelBlobs = 3

    public init() {}
}

/// Puts one blob into a repository with the least work: HEAD, then a
/// cross-repository mount, then an upload, chunked for big blobs, resuming from
/// where the registry says it stands after a dropped connection, with a fresh
/// session when the old one is gone (404 BLOB_UPLOAD_INVALID, ACR).
struct BlobUploader {
    let client: RegistryClient
    let repository: String
    let settings: UploadSettings
    let observer: TransferObserver?
    /// Where chunked sessions are recorded so a later process can continue them.
    var journal: UploadJournal? = nil

    var scope: String { RegistryClient.scope(repository, push: true) }

    /// `verify` runs once the registry is known to lack the blob, before any byte of it is sent.
    func upload(_ blob: Descriptor, file: String, mountFrom: String?, verify: () throws -> Void = {}) throws -> TransferOutcome {
        if try exists(blob) {
            journal?.remove(blob.digest)
            return .present
        }
        do {
            let outcome = try uploadWithRetries(blob, file: file, mountFrom: mountFrom, verify: verify)
            journal?.remove(blob.digest)
            return outcome
        } catch {
            // Giving up: tell the registry to drop the session rather than leave it behind.
            abandonRecordedSession(blob)
            throw error
        }
    }

    /// Cancels the session recorded for `blob`, if any, and forgets it.
    private func abandonRecordedSession(_ blob: Descriptor) {
        if let record = journal?.load(blob.digest) { cancel(record.location) }
        journal?.remove(blob.digest)
    }

    private func uploadWithRetries(_ blob: Descriptor, file: String, mountFrom: String?, verify: () throws -> Void) throws -> TransferOutcome {
        var lastError: Error?
        // Whole-upload attempts: each starts over from HEAD, so an upload that went
        // through before the connection dropped is not sent again.
        for attempt in 0..<5 {
            if attempt > 0 {
                if try exists(blob) { return .uploaded(requests: 0) }
                Thread.sleep(forTimeInterval: client.session.retry.delay(afterAttempt: attempt, retryAfter: nil))
            }
            do {
                return try uploadOnce(blob, file: file, mountFrom: attempt == 0 ? mountFrom : nil, verify: verify)
            } catch let error as UploadInterrupted {
                lastError = error.underlying
                abandonRecordedSession(blob)  // the next attempt opens a fresh session
            }
        }
        throw lastError ?? Failure(.unavailable, "registry \(client.session.registry): upload of \(blob.digest.short) kept failing")
    }

    /// A session an earlier, interrupted push left, and where it stands; nil when
    /// there is none or the registry no longer knows it.
    private func recordedSession(_ blob: Descriptor) -> (location: String, offset: Int64)? {
        guard let record = journal?.load(blob.digest) else { return nil }
        do {
            let (location, offset) = try resume(record.location, blob, after: Failure(.unavailable, "recorded session"))
            return (location, offset)
        } catch {
            journal?.remove(blob.digest)
            return nil
        }
    }

    /// A failure worth starting the upload over for.
    struct UploadInterrupted: Error { let underlying: Error }

    func exists(_ blob: Descriptor) throws -> Bool {
        let response = try client.send(HTTPRequest(method: "HEAD", url: client.url("/v2/\(repository)/blobs/\(blob.digest)")), scope: scope)
        if response.status == 200 { return true }
        if response.status == 404 { return false }
        throw client.failure(response, "blob \(blob.digest.short) in \(repository)")
    }

    private func uploadOnce(_ blob: Descriptor, file: String, mountFrom: String?, verify: () throws -> Void) throws -> TransferOutcome {
        let chunked = !settings.monolithicOnly && blob.size > settings.monolithicLimit
        if chunked, let (location, offset) = recordedSession(blob) {
            try verify()
            return try uploadChunked(blob, file: file, location: location, minimumChunk: 0, from: offset)
        }
        var location: String
        var minimumChunk: Int64 = 0
        if let mountFrom, mountFrom != repository {
            let url = client.url("/v2/\(repository)/blobs/uploads/?mount=\(blob.digest)&from=\(mountFrom)")
            let response = try client.send(HTTPRequest(method: "POST", url: url), scope: scope + " repository:\(mountFrom):pull")
            if response.status == 201 { return .mounted(from: mountFrom) }
            if response.status == 202, let next = response.header("Location") {
                // Not mounted, but here is an upload session to use instead (Harbor, Docker Hub).
                location = client.absolute(next)
                minimumChunk = Int64(response.header("OCI-Chunk-Min-Length") ?? "") ?? 0
            } else if response.status == 401 || response.status == 403 {
                // No pull right on the base's repository: upload the blob instead.
                (location, minimumChunk) = try startSession()
            } else {
                throw client.failure(response, "mount of \(blob.digest.short) into \(repository)")
            }
        } else {
            (location, minimumChunk) = try startSession()
        }
        do {
            try verify()
        } catch {
            cancel(location)
            throw error
        }
        if !chunked {
            let response: HTTPResponse
            do {
                response = try send(HTTPRequest(method: "PUT", url: withDigest(location, blob.digest),
                                                body: .file(path: file, offset: 0, length: blob.size)), blob: blob)
            } catch {
                cancel(location)  // the next attempt opens a new session; this one would linger
                throw error
            }
            try verifyCreated(response, blob)
            observer?.advanced(blob, bytes: blob.size)
            return .uploaded(requests: 1)
        }
        journal?.save(blob.digest, location: location, offset: 0)
        return try uploadChunked(blob, file: file, location: location, minimumChunk: minimumChunk, from: 0)
    }

    /// Tells the registry to drop an upload session gantry gives up on (distribution
    /// spec: DELETE on the upload URL), so abandoned sessions do not pile up there.
    /// One try: when the registry is what failed, retrying would only delay the error.
    func cancel(_ location: String) {
        _ = try? client.send(HTTPRequest(method: "DELETE", url: location), scope: scope, retrying: false)
    }

    private func startSession() throws -> (String, Int64) {
        let response = try client.send(HTTPRequest(method: "POST", url: client.url("/v2/\(repository)/blobs/uploads/")), scope: scope)
        guard response.status == 202, let location = response.header("Location") else {
            throw client.failure(response, "upload session in \(repository)")
        }
        return (client.absolute(location), Int64(response.header("OCI-Chunk-Min-Length") ?? "") ?? 0)
    }

    private func uploadChunked(_ blob: Descriptor, file: String, location start: String, minimumChunk: Int64,
                               from startOffset: Int64) throws -> TransferOutcome {
        var location = start
        // Tracked here: ECR's Range header can stick at the first chunk (aws/containers-roadmap#2831).
        var offset: Int64 = startOffset
        if startOffset > 0 { observer?.advanced(blob, bytes: startOffset) }
        var requests = 0
        let chunk = max(settings.chunkSize, minimumChunk)
        while offset < blob.size {
            let length = min(chunk, blob.size - offset)
            var request = HTTPRequest(method: "PATCH", url: location, body: .file(path: file, offset: offset, length: length))
            // distribution spec: inclusive range, no "bytes " prefix (ACR rejects it, dotnet/sdk-container-builds#258).
            request.setHeader("Content-Range", "\(offset)-\(offset + length - 1)")
            request.setHeader("Content-Length", "\(length)")
            requests += 1
            let sentBefore = offset
            let response: HTTPResponse
            do {
                response = try client.send(request, scope: scope, retrying: false) { sent in
                    observer?.advanced(blob, bytes: sentBefore + sent)
                }
            } catch let error as TransportError where error.isRetryable {
                (location, offset) = try resume(location, blob, after: error)
                continue
            }
            if response.status == 202, let next = response.header("Location") {
                location = client.absolute(next)
                offset += length
                journal?.save(blob.digest, location: location, offset: offset)
                continue
            }
            if RetryPolicy.isTransient(status: response.status) || response.status == 416 {
                Thread.sleep(forTimeInterval: client.session.retry.delay(afterAttempt: 1, retryAfter: response.header("Retry-After")))
                (location, offset) = try resume(location, blob, after: client.failure(response, "chunk of \(blob.digest.short)"))
                continue
            }
            if response.status == 404 { throw UploadInterrupted(underlying: client.failure(response, "upload session of \(blob.digest.short)")) }
            throw client.failure(response, "chunk \(sentBefore)-\(sentBefore + length - 1) of \(blob.digest.short)")
        }
        // Close the session; the registry checks the digest of everything it got.
        let response = try send(HTTPRequest(method: "PUT", url: withDigest(location, blob.digest)), blob: blob)
        try verifyCreated(response, blob)
        return .uploaded(requests: requests + 1)
    }

    /// After a dropped chunk: ask the session where it stands (GET → 204 + Range: 0-N).
    /// A session the registry no longer knows means starting over.
    private func resume(_ location: String, _ blob: Descriptor, after error: Error) throws -> (String, Int64) {
        let status: HTTPResponse
        do {
            status = try client.send(HTTPRequest(method: "GET", url: location), scope: scope)
        } catch {
            throw UploadInterrupted(underlying: error)
        }
        guard status.status == 204 || status.status == 202 else { throw UploadInterrupted(underlying: error) }
        let next = status.header("Location").map(client.absolute) ?? location
        guard let range = status.header("Range") else { return (next, 0) }
        let end = range.split(separator: "-").last.flatMap { Int64($0) } ?? -1
        // distribution answers "0-0" for an empty session as well as for one byte
        // (registry/handlers/blobupload.go); chunks are never one byte, so 0-0 means empty.
        return (next, end <= 0 ? 0 : end + 1)
    }

    /// A non-chunk request of the upload; transient failures restart the upload.
    private func send(_ request: HTTPRequest, blob: Descriptor) throws -> HTTPResponse {
        do {
            let response = try client.send(request, scope: scope, retrying: request.body.length == 0)
            if RetryPolicy.isTransient(status: response.status) || response.status == 404 {
                throw UploadInterrupted(underlying: client.failure(response, "upload of \(blob.digest.short)"))
            }
            return response
        } catch let error as TransportError where error.isRetryable {
            throw UploadInterrupted(underlying: error)
        }
    }

    private func verifyCreated(_ response: HTTPResponse, _ blob: Descriptor) throws {
        guard response.status == 201 || response.status == 204 else {
            throw client.failure(response, "upload of \(blob.digest.short) to \(repository)")
        }
        if let reported = response.header("Docker-Content-Digest"), reported != blob.digest.description {
            throw Failure(.invalidInput, "registry \(client.session.registry) stored \(blob.digest.short) under digest \(reported); the upload was corrupted, push again")
        }
    }

    private func withDigest(_ location: String, _ digest: Digest) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
    }
}
