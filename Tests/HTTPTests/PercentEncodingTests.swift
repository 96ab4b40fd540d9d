import Testing
@testable import HTTP

@Suite struct PercentEncodingTests {
    @Test func unreservedKeepsOnlyRFC3986Unreserved() {
        #expect(PercentEncoding.unreserved("aZ09-._~") == "aZ09-._~")
        #expect(PercentEncoding.unreserved("a b/c+d=é") == "a%20b%2Fc%2Bd%3D%C3%A9")
    }

    @Test func pathKeepsSlashesAndSegmentCharacters() {
        #expect(PercentEncoding.path("models/v1/w@2:x;y=z.bin") == "models/v1/w@2:x;y=z.bin")
        #expect(PercentEncoding.path("my model/é?#%") == "my%20model/%C3%A9%3F%23%25")
    }
}
