import FoundationEssentials
import Glibc
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
/// cross-repository mount, then an upload, chunked for big blobs.
///
/// The upload is one state machine under one retry budget (the session's
/// `RetryPolicy`): every failed request is an attempt, and the next attempt
/// continues from where the registry says the session stands (GET → `Range`);
/// a session the registry no longer knows (404, ACR's BLOB_UPLOAD_INVALID) starts
/// over with a fresh one. A confirmed chunk renews the budget.
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
            let outcome = try withoutActuallyEscaping(verify) { verify in
                var transfer = Transfer(uploader: self, blob: blob, file: file, verify: verify, mountFrom: mountFrom,
                                        stage: journal?.load(blob.digest).map { .session(location: $0.location, offset: nil, minimumChunk: 0) }
                                            ?? .start(mountFrom: mountFrom))
                return try client.session.retry.run { (number: Int) -> AttemptOutcome<TransferOutcome> in try transfer.attempt(number) }
            }
            journal?.remove(blob.digest)
            return outcome
        } catch {
            // Giving up: tell the registry to drop the session rather than leave it behind.
            if let record = journal?.load(blob.digest) { cancel(record.location) }
            journal?.remove(blob.digest)
            throw error
        }
    }

    /// HEAD: does the repository have the blob? (`retrying: false` inside an upload attempt.)
    func exists(_ blob: Descriptor, retrying: Bool = true) throws -> Bool {
        let response = try client.send(HTTPRequest(method: "HEAD", url: client.url("/v2/\(repository)/blobs/\(blob.digest)")),
                                       scope: scope, retrying: retrying)
        if RetryPolicy.isTransient(status: response.status) && !retrying {
            throw Transfer.Interruption(error: client.failure(response, "blob \(blob.digest.short) in \(repository)"),
                                        retryAfter: response.header("Retry-After"))
        }
        if response.status == 200 { return true }
        if response.status == 404 { return false }
        throw client.failure(response, "blob \(blob.digest.short) in \(repository)")
    }

    /// Tells the registry to drop an upload session gantry gives up on (distribution
    /// spec: DELETE on the upload URL), so abandoned sessions do not pile up there.
    /// One try: when the registry is what failed, retrying would only delay the error.
    func cancel(_ location: String) {
        _ = try? client.send(UploadRequests.cancel(location), scope: scope, retrying: false)
    }

    /// Where an upload stands between attempts.
    enum Stage {
        /// No session yet: HEAD (from the second attempt), mount or open one.
        case start(mountFrom: String?)
        /// A chunked session; `offset` is what the registry confirmed, nil when it
        /// must be asked first (after a failure, or a session a previous run recorded).
        case session(location: String, offset: Int64?, minimumChunk: Int64)
    }

    /// One blob's upload, attempt by attempt.
    struct Transfer {
        let uploader: BlobUploader
        let blob: Descriptor
        let file: String
        let verify: () throws -> Void
        let mountFrom: String?
        var stage: Stage
        var verified = false
        var requests = 0

        var client: RegistryClient { uploader.client }
        var chunked: Bool { !uploader.settings.monolithicOnly && blob.size > uploader.settings.monolithicLimit }

        /// Runs the upload from `stage` until it is done or a request fails.
        mutating func attempt(_ number: Int) throws -> AttemptOutcome<TransferOutcome> {
            var progressed = false
            do {
                while true {
                    switch stage {
                    case .start(let mountFrom):
                        // An earlier attempt's upload may have gone through before its answer was lost.
                        if number > 0, try uploader.exists(blob, retrying: false) { return .done(.uploaded(requests: requests)) }
                        if let outcome = try open(mountFrom: number == 0 ? mountFrom : nil) { return .done(outcome) }
                    case .session(let location, nil, let minimumChunk):
                        try resynchronize(location, minimumChunk: minimumChunk)
                    case .session(let location, let offset?, let minimumChunk):
                        return .done(try send(from: offset, location: location, minimumChunk: minimumChunk, progressed: &progressed))
                    }
                }
            } catch let interruption as Interruption {
                return .retry(interruption.error, retryAfter: interruption.retryAfter, progressed: progressed)
            } catch where RetryPolicy.isTransient(error) {
                if case .session(let location, _, let minimumChunk) = stage {
                    stage = .session(location: location, offset: nil, minimumChunk: minimumChunk)
                }
                return .retry(error, progressed: progressed)
            }
        }

        /// A failure the next attempt may get past, with the stage already set for it.
        struct Interruption: Error { let error: any Error; var retryAfter: String? = nil }

        /// Mounts the blob or opens a session. A monolithic upload finishes here.
        private mutating func open(mountFrom: String?) throws -> TransferOutcome? {
            var location: String
            var minimumChunk: Int64 = 0
            if let mountFrom, mountFrom != uploader.repository {
                let url = client.url("/v2/\(uploader.repository)/blobs/uploads/?mount=\(blob.digest)&from=\(mountFrom)")
                let response = try client.send(HTTPRequest(method: "POST", url: url),
                                               scope: uploader.scope + " repository:\(mountFrom):pull", retrying: false)
                if response.status == 201 { return .mounted(from: mountFrom) }
                if response.status == 202, let next = response.header("Location") {
                    // Not mounted, but here is an upload session to use instead (Harbor, Docker Hub).
                    location = client.absolute(next)
                    minimumChunk = Int64(response.header("OCI-Chunk-Min-Length") ?? "") ?? 0
                } else if response.status == 401 || response.status == 403 {
                    // No pull right on the base's repository: upload the blob instead.
                    (location, minimumChunk) = try startSession()
                } else {
                    throw interruptionOrFailure(response, "mount of \(blob.digest.short) into \(uploader.repository)")
                }
            } else {
                (location, minimumChunk) = try startSession()
            }
            try verifyOnce(cancelling: location)
            guard chunked else {
                try putWhole(location)
                return .uploaded(requests: requests)
            }
            uploader.journal?.save(blob.digest, location: location, offset: 0)
            stage = .session(location: location, offset: 0, minimumChunk: minimumChunk)
            return nil
        }

        private func startSession() throws -> (String, Int64) {
            let response = try client.send(UploadRequests.open(client, repository: uploader.repository),
                                           scope: uploader.scope, retrying: false)
            guard let session = UploadRequests.session(from: response, client: client) else {
                throw interruptionOrFailure(response, "upload session in \(uploader.repository)")
            }
            return session
        }

        /// The blob before its first byte goes up; a damaged one stops the push and its session.
        private mutating func verifyOnce(cancelling location: String) throws {
            guard !verified else { return }
            do {
                try verify()
                verified = true
            } catch {
                uploader.cancel(location)
                throw error
            }
        }

        /// One PUT with the whole blob. A session whose PUT failed is cancelled: the
        /// next attempt opens a new one, and this one would linger.
        private mutating func putWhole(_ location: String) throws {
            requests += 1
            let response: HTTPResponse
            do {
                response = try client.send(HTTPRequest(method: "PUT", url: withDigest(location),
                                                       body: .file(path: file, offset: 0, length: blob.size)),
                                           scope: uploader.scope, retrying: false)
            } catch {
                uploader.cancel(location)
                throw error
            }
            guard response.status == 201 || response.status == 204 else {
                uploader.cancel(location)
                stage = .start(mountFrom: nil)
                throw interruptionOrFailure(response, "upload of \(blob.digest.short) to \(uploader.repository)")
            }
            try checkDigest(response)
            uploader.observer?.advanced(blob, bytes: blob.size)
        }

        /// Asks the session where it stands (GET → 204 + `Range: 0-N`). A session the
        /// registry no longer knows means starting over with a fresh one.
        private mutating func resynchronize(_ location: String, minimumChunk: Int64) throws {
            let response = try client.send(HTTPRequest(method: "GET", url: location), scope: uploader.scope, retrying: false)
            if RetryPolicy.isTransient(status: response.status) {
                throw Interruption(error: client.failure(response, "upload session of \(blob.digest.short)"),
                                   retryAfter: response.header("Retry-After"))
            }
            guard response.status == 204 || response.status == 202 else {
                uploader.journal?.remove(blob.digest)
                stage = .start(mountFrom: mountFrom)
                return
            }
            let next = response.header("Location").map(client.absolute) ?? location
            let end = response.header("Range").flatMap { $0.split(separator: "-").last }.flatMap { Int64($0) } ?? -1
            // distribution answers "0-0" for an empty session as well as for one byte
            // (registry/handlers/blobupload.go); chunks are never one byte, so 0-0 means empty.
            let offset = min(end <= 0 ? 0 : end + 1, blob.size)
            stage = .session(location: next, offset: offset, minimumChunk: minimumChunk)
        }

        /// Sends the chunks from `offset`, then closes the session with the digest.
        private mutating func send(from startOffset: Int64, location startLocation: String, minimumChunk: Int64,
                                   progressed: inout Bool) throws -> TransferOutcome {
            try verifyOnce(cancelling: startLocation)
            var location = startLocation
            // Tracked here, not read from each answer: ECR's Range header can stick at
            // the first chunk (aws/containers-roadmap#2831).
            var offset = startOffset
            uploader.observer?.advanced(blob, bytes: offset)
            let chunk = max(uploader.settings.chunkSize, minimumChunk)
            while offset < blob.size {
                let length = min(chunk, blob.size - offset)
                let request = UploadRequests.chunk(location, path: file, offset: offset, length: length)
                requests += 1
                let sentBefore = offset
                let blob = self.blob, observer = uploader.observer
                let response = try client.send(request, scope: uploader.scope, retrying: false) { sent in
                    observer?.advanced(blob, bytes: sentBefore + sent)
                }
                guard response.status == 202, let next = response.header("Location") else {
                    throw chunkFailure(response, location: location, minimumChunk: minimumChunk,
                                       what: "chunk \(sentBefore)-\(sentBefore + length - 1) of \(blob.digest.short)")
                }
                location = client.absolute(next)
                offset += length
                progressed = true
                stage = .session(location: location, offset: offset, minimumChunk: minimumChunk)
                uploader.journal?.save(blob.digest, location: location, offset: offset)
            }
            // Close the session; the registry checks the digest of everything it got.
            requests += 1
            let response = try client.send(HTTPRequest(method: "PUT", url: withDigest(location)), scope: uploader.scope, retrying: false)
            guard response.status == 201 || response.status == 204 else {
                throw chunkFailure(response, location: location, minimumChunk: minimumChunk,
                                   what: "upload of \(blob.digest.short) to \(uploader.repository)")
            }
            try checkDigest(response)
            return .uploaded(requests: requests)
        }

        /// What a refused chunk or close means: 404, the session is gone (start over);
        /// 416 or a transient status, ask the session where it stands; anything else fails.
        private mutating func chunkFailure(_ response: HTTPResponse, location: String, minimumChunk: Int64, what: String) -> any Error {
            if response.status == 404 {
                uploader.journal?.remove(blob.digest)
                stage = .start(mountFrom: nil)
                return Interruption(error: client.failure(response, "upload session of \(blob.digest.short)"))
            }
            if response.status == 416 || RetryPolicy.isTransient(status: response.status) {
                stage = .session(location: location, offset: nil, minimumChunk: minimumChunk)
                return Interruption(error: client.failure(response, what), retryAfter: response.header("Retry-After"))
            }
            return client.failure(response, what)
        }

        /// A transient status is worth another attempt (from the same stage); others fail.
        private func interruptionOrFailure(_ response: HTTPResponse, _ what: String) -> any Error {
            let failure = client.failure(response, what)
            guard RetryPolicy.isTransient(status: response.status) else { return failure }
            return Interruption(error: failure, retryAfter: response.header("Retry-After"))
        }

        private func checkDigest(_ response: HTTPResponse) throws {
            if let reported = response.header("Docker-Content-Digest"), reported != blob.digest.description {
                throw Failure(.invalidInput, "registry \(client.session.registry) stored \(blob.digest.short) under digest \(reported); the upload was corrupted, push again")
            }
        }

        private func withDigest(_ location: String) -> String {
            UploadRequests.closing(location, digest: blob.digest.description)
        }
    }
}
