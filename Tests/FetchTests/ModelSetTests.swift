import Foundation
import Testing
import HTTP
import TestSupport
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import Threads
@testable import Fetch

/// A model that is a prefix in blob storage, against scripted S3 and Azure
/// endpoints: pages followed by their tokens, each file fetched as the version
/// the listing named, names that would escape refused.
@Suite struct ModelSetTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    let transport = ScriptedTransport()
    static let environment = ["AWS_ENDPOINT_URL": "https://s3.test", "AZURE_STORAGE_BLOB_ENDPOINT": "https://blob.test/acct"]

    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
    }

    func fetcher() -> ModelFetcher {
        var fetcher = ModelFetcher(store: store, environment: Self.environment)
        let transport = self.transport
        fetcher.connect = { _ in transport }
        fetcher.parallelFiles = 1
        fetcher.retry = RetryPolicy(attempts: 3, initialDelay: 0, maximumDelay: 0)
        return fetcher
    }

    static func s3Page(_ entries: [(String, [UInt8])], next: String?) -> [UInt8] {
        let contents = entries.map { name, bytes in
            "<Contents><Key>\(name)</Key><ETag>\"\(SHA256Hasher.hash(bytes).hex.prefix(8))\"</ETag><Size>\(bytes.count)</Size></Contents>"
        }.joined()
        let tail = next.map { "<IsTruncated>true</IsTruncated><NextContinuationToken>\($0)</NextContinuationToken>" } ?? "<IsTruncated>false</IsTruncated>"
        return Array("<ListBucketResult>\(contents)\(tail)</ListBucketResult>".utf8)
    }

    @Test func pagesAreFollowedAndEachFileIsFetchedAsListed() throws {
        let config = Array(#"{"a": 1}"#.utf8), shard = testBytes(5000, seed: 3)
        transport.on("GET", "s3.test/models?list-type=2&prefix=team%2Fresnet%2F", times: 1,
                     reply: .answer(200, body: Self.s3Page([("team/resnet/", []), ("team/resnet/config.json", config)], next: "tok/1=")))
        transport.on("GET", "continuation-token=tok%2F1%3D",
                     reply: .answer(200, body: Self.s3Page([("team/resnet/w/shard.bin", shard)], next: nil)))
        transport.on("GET", "/models/team/resnet/config.json") { request in
            request.header("If-Match") == "\"\(SHA256Hasher.hash(config).hex.prefix(8))\"" ? .answer(200, body: config) : .answer(412)
        }
        transport.on("GET", "/models/team/resnet/w/shard.bin", reply: .answer(200, body: shard))

        var reporting = fetcher()
        let progress = Locked<[SetProgress]>([])
        reporting.setProgress = { event in progress.withLock { $0.append(event) } }
        reporting.setProgressInterval = .zero
        let set = try reporting.fetch(.s3Prefix(bucket: "models", prefix: "team/resnet/"), pin: nil)
        #expect(progress.value == [.listed(2), .listed(3), .files(done: 1, total: 2, downloaded: 1), .files(done: 2, total: 2, downloaded: 2)])
        #expect(SetProgress.files(done: 1, total: 2, downloaded: 1).line(for: "s3://models/team/resnet/") == "model  s3://models/team/resnet/: 1 of 2 files (1 downloaded)")
        #expect(set.files?.map(\.relativePath) == ["config.json", "w/shard.bin"])
        #expect(set.downloadedFiles == 2 && !set.reused)
        #expect(try Data(contentsOf: URL(fileURLWithPath: set.path + "/w/shard.bin")) == Data(shard))
        // The digest a local directory of the same files has.
        let listing = "config.json\u{0}\(Digest(sha256: SHA256Hasher.hash(config)))\u{0}\(config.count)\n"
            + "w/shard.bin\u{0}\(Digest(sha256: SHA256Hasher.hash(shard)))\u{0}\(shard.count)\n"
        #expect(set.digest == Digest(sha256: SHA256Hasher.hash(Array(listing.utf8))))

        // Listed again with the same ETags: no file is asked for.
        transport.on("GET", "list-type=2", reply: .answer(200, body: Self.s3Page([("team/resnet/config.json", config), ("team/resnet/w/shard.bin", shard)], next: nil)))
        let before = transport.log.count
        let again = try fetcher().fetch(.s3Prefix(bucket: "models", prefix: "team/resnet/"), pin: nil)
        #expect(again.digest == set.digest && again.reused && again.downloadedFiles == 0)
        #expect(transport.log.count == before + 1)
    }

    @Test func aFileReplacedWhileItDownloadsIsCaughtByItsETag() throws {
        let bytes = testBytes(100, seed: 9)
        transport.on("GET", "list-type=2", reply: .answer(200, body: Self.s3Page([("p/model.bin", bytes)], next: nil)))
        transport.on("GET", "/models/p/model.bin", reply: .answer(412))
        #expect {
            try fetcher().fetch(.s3Prefix(bucket: "models", prefix: "p/"), pin: nil)
        } throws: { error in
            "\(error)".contains("s3://models/p/model.bin was replaced while it was downloaded")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256").isEmpty)
    }

    /// A page that fails mid-listing (a dropped connection, a 503) is asked again
    /// under the retry policy, and the listing goes on from that page.
    @Test func aPageThatFailsMidListingIsRetried() throws {
        let a = Array("a".utf8), b = Array("b".utf8)
        transport.on("GET", "list-type=2&prefix=p%2F", reply: .answer(200, body: Self.s3Page([("p/a.txt", a)], next: "t2")))
        transport.on("GET", "continuation-token=t2", reply: .drop(curlCode: 56))
        transport.on("GET", "continuation-token=t2", reply: .answer(503))
        transport.on("GET", "continuation-token=t2", reply: .answer(200, body: Self.s3Page([("p/b.txt", b)], next: nil)))
        transport.on("GET", "/models/p/a.txt", reply: .answer(200, body: a))
        transport.on("GET", "/models/p/b.txt", reply: .answer(200, body: b))
        let set = try fetcher().fetch(.s3Prefix(bucket: "models", prefix: "p/"), pin: nil)
        #expect(set.files?.map(\.relativePath) == ["a.txt", "b.txt"])
        #expect(transport.log.filter { $0.url.contains("continuation-token=t2") }.count == 3)

        // Past the policy's attempts: one line naming the prefix, nothing new left
        // behind (the set above keeps its linked directory until the process ends).
        let scratch = { try FileManager.default.contentsOfDirectory(atPath: self.store.root + "/ingest").sorted() }
        let before = try scratch()
        transport.on("GET", "list-type=2&prefix=q%2F", times: 3, reply: .answer(503))
        #expect { try fetcher().fetch(.s3Prefix(bucket: "models", prefix: "q/"), pin: nil) } throws: { "\($0)".contains("s3://models/q/") }
        #expect(try scratch() == before)
    }

    /// Entra ID: a bearer token (AZURE_STORAGE_TOKEN) signs the listing and each file.
    @Test func anAzureListingWithABearerTokenSendsIt() throws {
        let page = "<EnumerationResults><Blobs><Blob><Name>m/a.txt</Name><Properties><Etag>0x1</Etag><Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker/></EnumerationResults>"
        transport.on("GET", "comp=list&prefix=m%2F", reply: .answer(200, body: Array(page.utf8)))
        transport.on("GET", "/acct/models/m/a.txt", reply: .answer(200, body: [0x61]))
        var fetcher = self.fetcher()
        fetcher.environment["AZURE_STORAGE_TOKEN"] = "eyJ.token"
        _ = try fetcher.fetch(.azurePrefix(account: "acct", container: "models", prefix: "m/"), pin: nil)
        #expect(transport.log.count == 2)
        #expect(transport.log.allSatisfy { $0.header("Authorization") == "Bearer eyJ.token" && $0.header("x-ms-version") != nil })
    }

    @Test func anAzureListingIsSignedWithItsQueryAndPagedByMarker() throws {
        let page1 = "<EnumerationResults><Blobs><Blob><Name>m/a.txt</Name><Properties><Etag>0x1</Etag><Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker>2!mk</NextMarker></EnumerationResults>"
        let page2 = "<EnumerationResults><Blobs><Blob><Name>m/b.txt</Name><Properties><Etag>0x2</Etag><Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker/></EnumerationResults>"
        transport.on("GET", "blob.test/acct/models?restype=container&comp=list&prefix=m%2F&sig=SIG", reply: .answer(200, body: Array(page1.utf8)))
        transport.on("GET", "marker=2%21mk&sig=SIG&sp=l", reply: .answer(200, body: Array(page2.utf8)))
        transport.on("GET", "/acct/models/m/a.txt?", reply: .answer(200, body: [0x61]))
        transport.on("GET", "/acct/models/m/b.txt?", reply: .answer(200, body: [0x62]))
        var fetcher = self.fetcher()
        fetcher.environment["AZURE_STORAGE_SAS_TOKEN"] = "sig=SIG&sp=l"
        let set = try fetcher.fetch(.azurePrefix(account: "acct", container: "models", prefix: "m/"), pin: nil)
        #expect(set.files?.map(\.relativePath) == ["a.txt", "b.txt"])
        #expect(transport.log.filter { $0.url.contains("/m/") }.allSatisfy { $0.header("If-Match")?.hasPrefix("\"0x") == true })
    }

    @Test(arguments: ["../escape", "a/../../b", "a//b", "./a", "a\nb", "a/./b"])
    func aNameThatWouldEscapeIsRefused(_ name: String) {
        #expect(throws: Failure.self) { try BlobSetListing.checkName(name, in: .s3Prefix(bucket: "b", prefix: "p/")) }
    }

    @Test func aNameThatIsAFileAndADirectoryIsRefused() {
        let blobs = [ListedBlob(name: "a", size: 1), ListedBlob(name: "a/b", size: 1)]
        #expect {
            try BlobSetListing.checkNoCollisions(blobs, in: .s3Prefix(bucket: "b", prefix: "p/"))
        } throws: { "\($0)".contains("lists both 'a' and 'a/b'") }
    }

    @Test func prefixesParseAndKeepTheirSlash() throws {
        #expect(try ModelSource(parsing: "az://acct/models/resnet/") == .azurePrefix(account: "acct", container: "models", prefix: "resnet/"))
        #expect(try ModelSource(parsing: "az://acct/models/") == .azurePrefix(account: "acct", container: "models", prefix: ""))
        #expect(try ModelSource(parsing: "s3://bucket/team/resnet/") == .s3Prefix(bucket: "bucket", prefix: "team/resnet/"))
        #expect(try ModelSource(parsing: "s3://bucket/team/resnet/").fileName == "resnet")
        #expect(try ModelSource(parsing: "s3://bucket/team/model.bin") == .s3(bucket: "bucket", key: "team/model.bin"))
        for bad in ["az://acct/", "az://acct/models//x/", "s3://bucket/a/../", "s3:///x/"] {
            #expect(throws: Failure.self, "\(bad)") { try ModelSource(parsing: bad) }
        }
    }
}
