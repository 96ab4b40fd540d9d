import Testing
@testable import OCI

@Suite struct DigestTests {
    static let valid = "sha256:" + String(repeating: "ab", count: 32)

    @Test func acceptsAValidSha256() throws {
        let digest = try Digest(Self.valid)
        #expect(digest.algorithm == "sha256")
        #expect(digest.description == Self.valid)
    }

    @Test(arguments: [
        "sha256:" + String(repeating: "AB", count: 32),  // uppercase
        "sha256:" + String(repeating: "a", count: 63),   // too short
        "sha256:" + String(repeating: "g", count: 64),   // not hex
        "sha512:" + String(repeating: "a", count: 128),  // unsupported algorithm
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // no algorithm
    ])
    func rejectsMalformedDigests(_ text: String) {
        #expect(throws: (any Error).self) { try Digest(text) }
    }

    @Test func hashBytesGiveHex() {
        let digest = Digest(sha256: [0x00, 0xff, 0x10] + [UInt8](repeating: 1, count: 29))
        #expect(digest.encoded.hasPrefix("00ff1001"))
        #expect(digest.encoded.count == 64)
    }
}
