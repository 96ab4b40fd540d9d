import Foundation
import Testing
import HTTP
import TestSupport
import OCI
import ByteStreams
@testable import Registry
import Threads

/// Uploading a blob while it is still being written: chunks as the writer gets
/// past them, the digest only at the close, and a clean stop (session cancelled)
/// whenever something goes wrong, leaving the blob to the regular push.
@Suite struct StreamingUploadTests {
    let scratch: ScratchDirectory
    init() throws { scratch = try ScratchDirectory() }

    func upload(_ registry: ScriptedRegistry) -> StreamingUpload {
        var settings = UploadSettings()
        settings.chunkSize = 4000
        settings.monolithicLimit = 4000
        return StreamingUpload(session: registry.session, repository: "team/app", settings: settings)
    }

    @Test func chunksGoUpInOrderAndTheCloseCarriesTheDigest() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(10_000, in: scratch)
        let received = Locked<[UInt8]>([])
        registry.transport.on("POST", "/v2/team/app/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1"]))
        registry.transport.on("PATCH", "/uploads/u1", times: 3) { request in
            let start = received.value.count
            guard request.header("Content-Range") == "\(start)-\(start + request.body.count - 1)" else { return .answer(416) }
            received.withLock { $0 += request.body }
            return .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1"])
        }
        registry.transport.on("PUT", "/uploads/u1?digest=\(blob.digest)", reply: .answer(201, headers: ["Docker-Content-Digest": blob.digest]))
        let growing = GrowingFile()
        growing.complete(size: 10_000, digest: blob.digest)
        #expect(upload(registry).run(growing, path: blob.path))
        #expect(received.value == blob.bytes)
        #expect(registry.trace.map { String($0.split(separator: "?")[0]) } == [
            "POST /v2/team/app/blobs/uploads/", "PATCH /v2/team/app/blobs/uploads/u1", "PATCH /v2/team/app/blobs/uploads/u1",
            "PATCH /v2/team/app/blobs/uploads/u1", "PUT /v2/team/app/blobs/uploads/u1"])
    }

    @Test func aBlobOfOneRequestIsLeftToThePush() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(3000, in: scratch)
        let growing = GrowingFile()
        growing.complete(size: 3000, digest: blob.digest)
        #expect(!upload(registry).run(growing, path: blob.path))
        #expect(registry.trace.isEmpty)
    }

    @Test func aWriterThatFailsMidwayCancelsTheSession() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(10_000, in: scratch)
        let growing = GrowingFile()
        growing.advance(to: 4001)
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1"]))
        registry.transport.on("PATCH", "/uploads/u1") { _ in
            growing.fail()  // the build fails while the first chunk is on its way
            return .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1"])
        }
        registry.transport.on("DELETE", "/uploads/u1", reply: .answer(204))
        #expect(!upload(registry).run(growing, path: blob.path))
        #expect(registry.trace.map { String($0.split(separator: " ")[0]) } == ["POST", "PATCH", "DELETE"])
    }

    @Test func aRefusedChunkCancelsTheSession() throws {
        let registry = ScriptedRegistry()
        let blob = try TestBlob(10_000, in: scratch)
        let growing = GrowingFile()
        growing.complete(size: 10_000, digest: blob.digest)
        registry.transport.on("POST", "/blobs/uploads/", reply: .answer(202, headers: ["Location": "/v2/team/app/blobs/uploads/u1"]))
        registry.transport.on("PATCH", "/uploads/u1", reply: .answer(500))
        registry.transport.on("DELETE", "/uploads/u1", reply: .answer(204))
        #expect(!upload(registry).run(growing, path: blob.path))
        #expect(registry.trace.map { String($0.split(separator: " ")[0]) } == ["POST", "PATCH", "DELETE"])
    }

    @Test func aReaderWaitsForTheWriter() throws {
        let growing = GrowingFile()
        let writer = Thread {
            for step in 1...5 { usleep(2000); growing.advance(to: Int64(step * 100)) }
            growing.complete(size: 600, digest: "sha256:x")
        }
        writer.start()
        #expect(growing.wait(for: 300).written >= 300)
        let last = growing.wait(for: 10_000)
        #expect(last.written == 600)
        #expect(last.end == .complete(size: 600, digest: "sha256:x"))
    }
}
