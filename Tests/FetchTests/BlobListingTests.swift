import Testing
import Diagnostics
@testable import Fetch

/// Listing pages as Azure and S3 answer them (shapes from their REST references),
/// read by libxml2's streaming reader.
@Suite struct BlobListingTests {
    static let azurePage = """
    <?xml version="1.0" encoding="utf-8"?>
    <EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="models">
      <Prefix>resnet/</Prefix>
      <MaxResults>2</MaxResults>
      <Blobs>
        <Blob>
          <Name>resnet/model.safetensors</Name>
          <VersionId>2026-11-30T10:00:00.0000000Z</VersionId>
          <Properties>
            <Last-Modified>Mon, 30 Nov 2026 10:00:00 GMT</Last-Modified>
            <Etag>0x8DCB1E2F3A4B5C6</Etag>
            <Content-Length>104857600</Content-Length>
            <BlobType>BlockBlob</BlobType>
          </Properties>
        </Blob>
        <Blob>
          <Name>resnet/sub</Name>
          <Properties><Content-Length>0</Content-Length><ResourceType>directory</ResourceType></Properties>
        </Blob>
        <Blob>
          <Name>resnet/synset &amp; labels.txt</Name>
          <Properties><Etag>0x8DCB1E2F3A4B5C7</Etag><Content-Length>21675</Content-Length></Properties>
        </Blob>
      </Blobs>
      <NextMarker>2!96!MDAwMDQ1IXJlc25ldC9zeW5zZXQudHh0</NextMarker>
    </EnumerationResults>
    """

    static let s3Page = """
    <?xml version="1.0" encoding="UTF-8"?>
    <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Name>models</Name><Prefix>resnet/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
      <IsTruncated>true</IsTruncated>
      <Contents>
        <Key>resnet/config.json</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified>
        <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>512</Size><StorageClass>STANDARD</StorageClass>
      </Contents>
      <Contents>
        <Key>resnet/model-00001-of-00002.safetensors</Key>
        <ETag>"e2fc714c4727ee9395f324cd2e7f331f-13"</ETag><Size>209715200</Size>
      </Contents>
      <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
    </ListBucketResult>
    """

    @Test func anAzurePageGivesItsBlobsAndTheNextMarker() throws {
        let page = try BlobListingParser.parse(Array(Self.azurePage.utf8), format: .azure, source: "az://acct/models/resnet/")
        #expect(page.blobs == [
            ListedBlob(name: "resnet/model.safetensors", size: 104_857_600, etag: "\"0x8DCB1E2F3A4B5C6\"", versionId: "2026-11-30T10:00:00.0000000Z"),
            ListedBlob(name: "resnet/synset & labels.txt", size: 21675, etag: "\"0x8DCB1E2F3A4B5C7\""),
        ])
        #expect(page.next == "2!96!MDAwMDQ1IXJlc25ldC9zeW5zZXQudHh0")
    }

    @Test func anS3PageGivesItsObjectsAndTheContinuationToken() throws {
        let page = try BlobListingParser.parse(Array(Self.s3Page.utf8), format: .s3, source: "s3://models/resnet/")
        #expect(page.blobs.map(\.name) == ["resnet/config.json", "resnet/model-00001-of-00002.safetensors"])
        #expect(page.blobs.map(\.size) == [512, 209_715_200])
        #expect(page.blobs[0].etag == "\"9b2cf535f27731c974343645a3985328\"")
        #expect(page.next == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test func theLastPageHasNoNext() throws {
        let azure = "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker /></EnumerationResults>"
        #expect(try BlobListingParser.parse(Array(azure.utf8), format: .azure, source: "az").next == nil)
        let s3 = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>"
        let page = try BlobListingParser.parse(Array(s3.utf8), format: .s3, source: "s3")
        #expect(page.next == nil && page.blobs.count == 1)
        let empty = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"
        #expect(try BlobListingParser.parse(Array(empty.utf8), format: .s3, source: "s3").blobs.isEmpty)
    }

    @Test(arguments: [
        ("<EnumerationResults><Blobs><Blob><Name>a</Name>", "malformed XML"),
        ("<html><body>Sign in</body></html>", "not an EnumerationResults document (it is <html>)"),
        ("<Error><Code>AuthorizationPermissionMismatch</Code></Error>", "not an EnumerationResults document (it is <Error>)"),
        ("<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Content-Length>-4</Content-Length></Properties></Blob></Blobs></EnumerationResults>", "without a name or size"),
        ("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><EnumerationResults><Blobs><Blob><Name>&e;</Name><Properties><Content-Length>1</Content-Length></Properties></Blob></Blobs></EnumerationResults>", "without a name or size"),
        ("", "listing of az"),
    ])
    func aBadPageIsRefusedWithALine(_ body: String, _ expected: String) {
        #expect {
            try BlobListingParser.parse(Array(body.utf8), format: .azure, source: "az://acct/models/x/")
        } throws: { error in
            guard let failure = error as? Failure, failure.kind == .invalidInput else { return false }
            return failure.description.contains(expected) && failure.description.contains("az://acct/models/x/")
        }
    }
}
