import Foundation
import Testing
import HTTP
import OCI
@testable import Fetch

@Suite struct S3SignerTests {
    /// The worked example "GET Object" from AWS's S3 documentation
    /// ("Signature Calculations for the Authorization Header: Transferring Payload
    /// in a Single Chunk"), whose expected signature AWS publishes.
    @Test func matchesAWSDocumentedExample() {
        let signer = S3Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              sessionToken: nil, region: "us-east-1")
        var request = HTTPRequest(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt")
        request.setHeader("Range", "bytes=0-9")
        request.setHeader("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        request.setHeader("x-amz-date", "20130524T000000Z")
        let (signedHeaders, signature) = signer.signature(for: request, stamp: "20130524T000000Z")
        #expect(signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")
        #expect(signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func endpointOverrideIsPathStyle() {
        let object = S3Object(bucket: "models", key: "team a/clf.json", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000/"])
        #expect(object.url == "http://127.0.0.1:9000/models/team%20a/clf.json")
        let aws = S3Object(bucket: "models", key: "k", environment: ["AWS_REGION": "eu-west-1"])
        #expect(aws.url == "https://models.s3.eu-west-1.amazonaws.com/k")
    }
}

@Suite struct ModelSourceTests {
    @Test func parsesEveryScheme() throws {
        #expect(try ModelSource(parsing: "az://acct/models/v1/clf.json") == .azureBlob(account: "acct", container: "models", blob: "v1/clf.json"))
        #expect(try ModelSource(parsing: "s3://bucket/path/to/m.bin") == .s3(bucket: "bucket", key: "path/to/m.bin"))
        #expect(try ModelSource(parsing: "model/clf.json") == .local(path: "model/clf.json"))
        #expect(throws: (any Error).self) { try ModelSource(parsing: "az://acct/only") }
        #expect(throws: (any Error).self) { try ModelSource(parsing: "ftp://x/y") }
    }

    @Test func descriptionNeverShowsTheSignature() throws {
        let source = try ModelSource(parsing: "https://a.blob.core.windows.net/c/m.bin?sv=2022-11-02&sp=r&sig=SECRET%2Bx")
        #expect(!source.description.contains("SECRET"))
        #expect(source.fileName == "m.bin")
    }
}

@Suite struct ModelCacheTests {
    static let digest = try! OCI.Digest("sha256:" + String(repeating: "a", count: 64))

    @Test func sameETagAndSizeMeansUnchanged() {
        let record = ModelCache.Record(version: RemoteVersion(size: 10, etag: "\"v1\"", lastModified: "Mon", acceptsRanges: true),
                                       digest: Self.digest, size: 10)
        #expect(record.matches(RemoteVersion(size: 10, etag: "\"v1\"", lastModified: "Tue", acceptsRanges: true)))
        #expect(!record.matches(RemoteVersion(size: 10, etag: "\"v2\"", lastModified: "Mon", acceptsRanges: true)))
        #expect(!record.matches(RemoteVersion(size: 11, etag: "\"v1\"", lastModified: "Mon", acceptsRanges: true)))
    }

    @Test func withoutAnyVersionInformationItDownloadsAgain() {
        let record = ModelCache.Record(version: RemoteVersion(size: 10, etag: nil, lastModified: nil, acceptsRanges: false),
                                       digest: Self.digest, size: 10)
        #expect(!record.matches(RemoteVersion(size: 10, etag: nil, lastModified: nil, acceptsRanges: false)))
        let dated = ModelCache.Record(version: RemoteVersion(size: 10, etag: nil, lastModified: "Mon", acceptsRanges: false),
                                      digest: Self.digest, size: 10)
        #expect(dated.matches(RemoteVersion(size: nil, etag: nil, lastModified: "Mon", acceptsRanges: false)))
    }
}
