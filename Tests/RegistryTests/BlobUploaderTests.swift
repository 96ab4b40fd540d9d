import Foundation
import Testing
import HTTP
import TestSupport
import OCI
import ContentStore
import Diagnostics
@testable import Registry

/// The push state machine against scripted registry answers: every branch that
/// the shell tests can only reach with fault proxies, one at a time.
@Suite struct BlobUploaderTests {
    let scratch: ScratchDirectory
    init() throws { scratch = try ScratchDirectory() }

    @Test func aBlobTheRegistryHasIsNotSent() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/v2/team/app/blobs/\(blob.digest)", reply: .answer(200))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .present)
        #expect(registry.trace == ["HEAD /v2/team/app/blobs/\(blob.digest)"])
    }

    @Test func aSmallBlobGoesInOnePutToTheRelativeLocation() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/v2/team/app/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1?_state=abc"]))
        registry.transport.on("PUT", "/blobs/uploads/u1") { request in
            let expectedURL = "\(ScriptedRegistry.base)/v2/team/app/blobs/uploads/u1?_state=abc&digest=\(blob.digest)"
            guard request.url == expectedURL, request.body == blob.bytes else { return .answer(400) }
            return .answer(201, headers: ["Docker-Content-Digest": blob.digest])
        }
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 1))
        #expect(registry.trace.map { $0.split(separator: "?")[0] } == ["HEAD /v2/team/app/blobs/\(blob.digest)", "POST /v2/team/app/blobs/uploads/", "PUT /v2/team/app/blobs/uploads/u1"])
    }

    @Test func anAcceptedMountSendsNoBytes() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(5000, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/?mount=\(blob.digest)&from=library/python", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: "library/python") == .mounted(from: "library/python"))
        #expect(!registry.trace.contains { $0.hasPrefix("PATCH") || $0.hasPrefix("PUT") })
    }

    @Test func aMountAnsweredWithASessionUploadsIntoThatSession() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "mount=", reply: .answer(202, headers: ["Location": "https://registry.test/v2/team/app/blobs/uploads/m1"]))
        registry.transport.on("PUT", "/uploads/m1?digest=", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: "library/python") == .uploaded(requests: 1))
    }

    @Test(arguments: [401, 403])
    func aRefusedMountFallsBackToAnUpload(_ status: Int) throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "mount=", reply: .answer(status))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u2"]))
        registry.transport.on("PUT", "/uploads/u2?digest=", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: "other/base") == .uploaded(requests: 1))
    }

    /// Each chunk's answer names the next URL, relative or absolute; Content-Range is inclusive, without "bytes ".
    @Test func chunksFollowTheLocationChain() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "https://registry.test/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=b"]))
        registry.transport.on("PATCH", "step=b", reply: .answer(202, headers: ["Location": "https://registry.test/v2/team/app/blobs/uploads/s?step=c"]))
        registry.transport.on("PATCH", "step=c", reply: .answer(202, headers: ["Location": "v2/team/app/blobs/uploads/s?step=d"]))
        registry.transport.on("PUT", "step=d&digest=\(blob.digest)", reply: .answer(201, headers: ["Docker-Content-Digest": blob.digest]))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 4))
        let patches = registry.transport.log.filter { $0.method == "PATCH" }
        #expect(patches.map { $0.header("Content-Range") } == ["0-1023", "1024-2047", "2048-2499"])
        #expect(patches.flatMap(\.body) == blob.bytes)
    }

    /// distribution answers "0-0" for an empty session: the chunk is sent again from byte 0, not 1.
    @Test func aDroppedFirstChunkResumesAtZeroAfterARangeOfZeroToZero() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2000, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", reply: .drop())
        registry.transport.on("GET", "step=a", reply: .answer(204, headers: ["Range": "0-0", "Location": "/v2/team/app/blobs/uploads/s?step=b"]))
        registry.transport.on("PATCH", "step=b", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=c"]))
        registry.transport.on("PATCH", "step=c", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=d"]))
        registry.transport.on("PUT", "step=d", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 4))
        let ranges = registry.transport.log.filter { $0.method == "PATCH" }.map { $0.header("Content-Range") }
        #expect(ranges == ["0-1023", "0-1023", "1024-1999"])
        #expect(registry.recordedWaits.count == 1)
    }

    /// A 5xx or a 416 mid-upload: the session says where it stands and the upload goes on from there.
    @Test(arguments: [500, 503, 416])
    func aRefusedChunkResumesWhereTheSessionStands(_ status: Int) throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(3000, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=b"]))
        registry.transport.on("PATCH", "step=b", reply: .answer(status))
        registry.transport.on("GET", "step=b", reply: .answer(204, headers: ["Range": "0-1023", "Location": "/v2/team/app/blobs/uploads/s?step=c"]))
        registry.transport.on("PATCH", "step=c", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=d"]))
        registry.transport.on("PATCH", "step=d", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=e"]))
        registry.transport.on("PUT", "step=e", reply: .answer(201))
        _ = try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil)
        let ranges = registry.transport.log.filter { $0.method == "PATCH" }.map { $0.header("Content-Range") }
        #expect(ranges == ["0-1023", "1024-2047", "1024-2047", "2048-2999"])
        #expect(!registry.trace.contains { $0.hasPrefix("POST") && $0 != "POST /v2/team/app/blobs/uploads/" })
    }

    /// ACR forgets sessions (404 BLOB_UPLOAD_INVALID): a new session, from byte 0, without a mount.
    @Test func aForgottenSessionStartsOver() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2000, in: scratch)
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(404))
        registry.transport.on("POST", "mount=", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/old?step=a"]))
        registry.transport.on("PATCH", "old?step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/old?step=b"]))
        registry.transport.on("PATCH", "old?step=b", reply: .answer(404, body: Array(#"{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}"#.utf8)))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/new?step=a"]))
        registry.transport.on("PATCH", "new?step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/new?step=b"]))
        registry.transport.on("PATCH", "new?step=b", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/new?step=c"]))
        registry.transport.on("PUT", "new?step=c", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: "library/python") == .uploaded(requests: 5))
        #expect(registry.trace.filter { $0.hasPrefix("POST") }.count == 2)
        #expect(registry.trace.last(where: { $0.hasPrefix("POST") }) == "POST /v2/team/app/blobs/uploads/")
    }

    /// A token that expires mid-push (moby#33558): the registry's 401 brings a new token and the chunk is resent.
    @Test func aTokenExpiringMidPushIsRenewedAndTheChunkResent() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2000, in: scratch)
        let challenge = ["WWW-Authenticate": #"Bearer realm="https://auth.test/token",service="registry.test""#]
        registry.transport.on("HEAD", "/blobs/", reply: .answer(401, headers: challenge))
        registry.transport.on("GET", "https://auth.test/token", reply: .answer(200, body: Array(#"{"token":"first","expires_in":300}"#.utf8)))
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=b"]))
        registry.transport.on("PATCH", "step=b", reply: .answer(401, headers: challenge))
        registry.transport.on("GET", "https://auth.test/token", reply: .answer(200, body: Array(#"{"token":"second","expires_in":300}"#.utf8)))
        registry.transport.on("PATCH", "step=b") { request in
            request.header("Authorization") == "Bearer second"
                ? .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=c"]) : .answer(401, headers: challenge)
        }
        registry.transport.on("PUT", "step=c", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 3))
        let tokenRequests = registry.transport.log.filter { $0.url.hasPrefix("https://auth.test/token") }
        #expect(tokenRequests.count == 2)
        #expect(tokenRequests[0].url.contains("scope=repository%3Ateam%2Fapp%3Apull%2Cpush"))
        #expect(registry.recordedWaits.isEmpty)  // re-authentication is not a retry
    }

    @Test func retryAfterIsHonoured() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(429, headers: ["Retry-After": "7"]))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u"]))
        registry.transport.on("PUT", "/uploads/u?digest=", reply: .answer(201))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 1))
        #expect(registry.recordedWaits == [7])
    }

    @Test func aDigestTheRegistryReportsDifferentlyIsAnError() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u"]))
        registry.transport.on("PUT", "/uploads/u?digest=", reply: .answer(201, headers: ["Docker-Content-Digest": "sha256:" + String(repeating: "0", count: 64)]))
        #expect {
            try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil)
        } throws: { error in
            (error as? Failure)?.kind == .invalidInput && "\(error)".contains("the upload was corrupted")
        }
    }

    /// Out of attempts: the last error is reported, the session cancelled and its record removed.
    @Test func givingUpCancelsTheSessionAndForgetsIt() throws {
        let registry = ScriptedRegistry(attempts: 3)
        let blob = try TestBlob(2000, in: scratch)
        let journal = UploadJournal(store: try ContentStore(root: scratch.path + "/store"), registry: "registry.test", repository: "team/app")
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", times: 3, reply: .drop())
        registry.transport.on("GET", "step=a", times: 2, reply: .answer(204, headers: ["Range": "0-0"]))
        registry.transport.on("DELETE", "step=a", reply: .answer(204))
        #expect(throws: TransportError.self) {
            try registry.uploader(journal: journal).upload(blob.descriptor, file: blob.path, mountFrom: nil)
        }
        #expect(registry.trace.last == "DELETE /v2/team/app/blobs/uploads/s?step=a")
        #expect(registry.trace.filter { $0.hasPrefix("PATCH") }.count == 3)
        #expect(registry.recordedWaits.count == 2)
        #expect(journal.load(blob.descriptor.digest) == nil)
    }

    /// A push killed part-way left a record: the next one asks the session and continues.
    @Test func aRecordedSessionIsContinued() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2000, in: scratch)
        let journal = UploadJournal(store: try ContentStore(root: scratch.path + "/store"), registry: "registry.test", repository: "team/app")
        journal.save(blob.descriptor.digest, location: "https://registry.test/v2/team/app/blobs/uploads/s?step=k", offset: 1024)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("GET", "step=k", reply: .answer(204, headers: ["Range": "0-1023", "Location": "/v2/team/app/blobs/uploads/s?step=l"]))
        registry.transport.on("PATCH", "step=l", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=m"]))
        registry.transport.on("PUT", "step=m", reply: .answer(201))
        #expect(try registry.uploader(journal: journal).upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 2))
        #expect(registry.transport.log.filter { $0.method == "PATCH" }.map { $0.header("Content-Range") } == ["1024-1999"])
        #expect(!registry.trace.contains { $0.hasPrefix("POST") })
        #expect(journal.load(blob.descriptor.digest) == nil)
    }

    @Test func aRecordedSessionTheRegistryForgotStartsOver() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(1500, in: scratch)
        let journal = UploadJournal(store: try ContentStore(root: scratch.path + "/store"), registry: "registry.test", repository: "team/app")
        journal.save(blob.descriptor.digest, location: "https://registry.test/v2/team/app/blobs/uploads/gone", offset: 1024)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("GET", "/uploads/gone", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("PATCH", "step=a", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=b"]))
        registry.transport.on("PATCH", "step=b", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=c"]))
        registry.transport.on("PUT", "step=c", reply: .answer(201))
        #expect(try registry.uploader(journal: journal).upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 3))
        #expect(registry.transport.log.filter { $0.method == "PATCH" }.map { $0.header("Content-Range") } == ["0-1023", "1024-1499"])
    }

    /// A damaged blob in the store: nothing is sent and the session is cancelled.
    @Test func aBlobThatFailsVerificationIsNeverSent() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(2000, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/s?step=a"]))
        registry.transport.on("DELETE", "step=a", reply: .answer(204))
        #expect(throws: Failure.self) {
            try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) { throw Failure(.invalidInput, "damaged") }
        }
        #expect(!registry.trace.contains { $0.hasPrefix("PATCH") || $0.hasPrefix("PUT") })
        #expect(registry.trace.last == "DELETE /v2/team/app/blobs/uploads/s?step=a")
    }

    /// The answer of a PUT that went through was lost: the next attempt finds the blob with HEAD.
    @Test func anUploadWhoseAnswerWasLostIsFoundByHead() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(500, in: scratch)
        registry.transport.on("HEAD", "/blobs/", reply: .answer(404))
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u"]))
        registry.transport.on("PUT", "/uploads/u?digest=", reply: .drop(curlCode: 52))
        registry.transport.on("DELETE", "/uploads/u", reply: .answer(404))
        registry.transport.on("HEAD", "/blobs/", reply: .answer(200))
        #expect(try registry.uploader().upload(blob.descriptor, file: blob.path, mountFrom: nil) == .uploaded(requests: 1))
        #expect(registry.trace.filter { $0.hasPrefix("PUT") }.count == 1)
    }
}
