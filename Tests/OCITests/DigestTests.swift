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

    /// Kept as four words: the text comes back digit for digit, equality and
    /// hashing follow it, and the order is the text's.
    @Test func theCompactFormKeepsTextEqualityAndOrder() throws {
        var generator = SystemRandomNumberGenerator()
        let texts = (0..<200).map { _ in
            "sha256:" + String((0..<64).map { _ in Array("0123456789abcdef")[Int(generator.next() % 16)] })
        } + ["sha256:" + String(repeating: "0", count: 64), "sha256:" + String(repeating: "f", count: 64)]
        let digests = try texts.map(Digest.init)
        #expect(digests.map(\.description) == texts)
        #expect(digests.sorted().map(\.description) == texts.sorted())
        #expect(Set(digests).count == Set(texts).count)
        let again = try Digest(texts[0])
        #expect(again == digests[0] && again.hashValue == digests[0].hashValue)
        let bytes = (0..<32).map { UInt8($0 * 7 % 256) }
        #expect(try Digest(Digest(sha256: bytes).description) == Digest(sha256: bytes))
    }
}
