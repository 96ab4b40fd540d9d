import Foundation
import Testing
import HTTP
import TestSupport
import OCI
import ByteStreams
import ContentStore
import Diagnostics
@testable import Fetch

/// Model downloads against scripted sources: ranges ignored, short bodies, resumes.
@Suite struct DownloadTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    let model = testBytes(3000, seed: 42)
    let transport = ScriptedTransport()
    static let url = "https://models.test/model.bin"

    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
    }

    var digest: Digest { Digest(sha256: SHA256Hasher.hash(model)) }

    func fetcher(partSize: Int64 = 1024) -> ModelFetcher {
        var fetcher = ModelFetcher(store: store, environment: [:])
        let transport = self.transport
        fetcher.connect = { _ in transport }
        fetcher.partSize = partSize
        fetcher.parallelParts = 1
        fetcher.retry = RetryPolicy(attempts: 3, initialDelay: 0, maximumDelay: 0)
        return fetcher
    }

    func head(ranges: Bool) {
        var headers = ["Content-Length": "\(model.count)", "ETag": "\"v1\""]
        if ranges { headers["Accept-Ranges"] = "bytes" }
        transport.on("HEAD", Self.url, reply: .answer(200, headers: headers))
    }

    var ranges: [String] { transport.log.filter { $0.method == "GET" }.map { $0.header("Range") ?? "none" } }

    @Test func partsAreFetchedInRangesAndAShortPartIsCompleted() throws {
        head(ranges: true)
        let model = self.model
        transport.on("GET", Self.url, reply: .answer(206, body: Array(model[0..<500])))  // short
        transport.on("GET", Self.url, reply: .answer(206, body: Array(model[500..<1024])))
        transport.on("GET", Self.url, reply: .answer(206, body: Array(model[1024..<2048])))
        transport.on("GET", Self.url, reply: .drop())
        transport.on("GET", Self.url, reply: .answer(206, body: Array(model[2048..<3000])))
        let fetched = try fetcher().fetch(.url(Self.url), pin: digest)
        #expect(fetched.digest == digest && !fetched.reused)
        #expect(ranges == ["bytes=0-1023", "bytes=500-1023", "bytes=1024-2047", "bytes=2048-2999", "bytes=2048-2999"])
        #expect(try store.read(digest) == model)
    }

    /// A server that advertises ranges but answers a ranged GET with the whole object.
    @Test func rangesIgnoredFallsBackToOnePlainDownload() throws {
        head(ranges: true)
        transport.on("GET", Self.url, times: 2, reply: .answer(200, body: model))
        let fetched = try fetcher().fetch(.url(Self.url), pin: nil)
        #expect(fetched.digest == digest)
        #expect(ranges == ["bytes=0-1023", "none"])
    }

    @Test func aStreamCutShortIsResumedFromTheBytesItHas() throws {
        head(ranges: true)
        let model = self.model
        transport.on("GET", Self.url, reply: .cut(200, body: Array(model[0..<1000])))
        transport.on("GET", Self.url, reply: .answer(206, body: Array(model[1000...])))
        let fetched = try fetcher(partSize: 1 << 20).fetch(.url(Self.url), pin: nil)
        #expect(fetched.digest == digest)
        #expect(ranges == ["none", "bytes=1000-"])
    }

    /// The whole object again in answer to a resume would spoil the file: an error, not a wrong model.
    @Test func aResumeAnsweredWithTheWholeObjectIsAnError() throws {
        head(ranges: true)
        let model = self.model
        transport.on("GET", Self.url, reply: .cut(200, body: Array(model[0..<1000])))
        transport.on("GET", Self.url, reply: .answer(200, body: model))
        #expect {
            try fetcher(partSize: 1 << 20).fetch(.url(Self.url), pin: nil)
        } throws: { error in
            "\(error)".contains("ignored the Range request")
        }
        #expect(!store.contains(digest))
    }

    @Test func aStreamThatCannotResumeFailsClearlyAndLeavesNothing() throws {
        head(ranges: false)
        let model = self.model
        transport.on("GET", Self.url, reply: .cut(200, body: Array(model[0..<1000])))
        #expect {
            try fetcher().fetch(.url(Self.url), pin: nil)
        } throws: { error in
            (error as? Failure)?.kind == .unavailable && "\(error)".contains("cut off at 1000 of 3000 bytes and could not be resumed")
        }
        #expect(ranges == ["none"])
        let ingest = try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest")
        #expect(ingest.isEmpty)
    }

    @Test func aPartThatKeepsFailingStopsAfterTheBudget() throws {
        head(ranges: true)
        transport.on("GET", Self.url, times: 3, reply: .answer(503))
        #expect {
            try fetcher().fetch(.url(Self.url), pin: nil)
        } throws: { error in
            "\(error)".contains("kept failing at byte 0") && (error as? Failure)?.cause != nil
        }
        #expect(transport.log.filter { $0.method == "GET" }.count == 3)
    }
}

/// Azure managed identity: the token comes from the identity endpoint (App Service
/// style), then signs the blob requests.
@Suite struct ManagedIdentityTests {
    @Test func theIdentityEndpointsTokenSignsTheDownload() throws {
        let scratch = try ScratchDirectory()
        let transport = ScriptedTransport()
        let model = testBytes(100, seed: 3)
        transport.on("GET", "https://identity.test/token?api-version=2019-08-01&resource=https%3A%2F%2Fstorage.azure.com%2F") { request in
            request.header("X-IDENTITY-HEADER") == "header-secret" ? .answer(200, body: Array(#"{"access_token":"storage-token"}"#.utf8)) : .answer(403)
        }
        transport.on("HEAD", "https://acct.blob.test/models/m.bin") { request in
            request.header("Authorization") == "Bearer storage-token" ? .answer(200, headers: ["Content-Length": "100", "ETag": "e"]) : .answer(403)
        }
        transport.on("GET", "https://acct.blob.test/models/m.bin") { request in
            request.header("Authorization") == "Bearer storage-token" ? .answer(200, body: model) : .answer(403)
        }
        var fetcher = ModelFetcher(store: try ContentStore(root: scratch.path + "/store"), environment: [
            "IDENTITY_ENDPOINT": "https://identity.test/token", "IDENTITY_HEADER": "header-secret",
            "AZURE_STORAGE_BLOB_ENDPOINT": "https://acct.blob.test",
        ])
        fetcher.connect = { _ in transport }
        let fetched = try fetcher.fetch(try ModelSource(parsing: "az://acct/models/m.bin"), pin: nil)
        #expect(fetched.digest == Digest(sha256: SHA256Hasher.hash(model)))
        #expect(transport.trace.count == 3)
    }
}
