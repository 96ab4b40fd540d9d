import Foundation
import Testing
import OCI
@testable import Signing

@Suite struct SigningTests {
    /// cosign's payload, byte for byte as Go's encoding/json writes sigstore's payload.Cosign.
    @Test func payloadIsWhatCosignWrites() throws {
        let digest = try Digest("sha256:" + String(repeating: "ab", count: 32))
        let payload = String(decoding: CosignPayload.make(repository: "127.0.0.1:5000/team/app", digest: digest), as: UTF8.self)
        #expect(payload == #"{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/team/app"},"image":{"docker-manifest-digest":"sha256:"# + String(repeating: "ab", count: 32) + #""},"type":"cosign container image signature"},"optional":null}"#)
        let claims = try CosignPayload.claims(of: Array(payload.utf8))
        #expect(claims.digest == digest && claims.dockerReference == "127.0.0.1:5000/team/app")
        #expect(CosignPayload.signatureTag(for: digest) == "sha256-" + String(repeating: "ab", count: 32) + ".sig")
        #expect(CosignPayload.jsonString("a<b>&\"\n") == #""a\u003cb\u003e\u0026\"\n""#)
        #expect(throws: (any Error).self) { try CosignPayload.claims(of: Array(#"{"critical":{"type":"other"}}"#.utf8)) }
    }

    @Test func generatedKeysSignAndOnlyTheirOwnSignaturesVerify() throws {
        let directory = NSTemporaryDirectory() + "gantry-signing-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try KeyGeneration.generate(privateKey: directory + "/a.key", publicKey: directory + "/a.pub", passphrase: nil)
        try KeyGeneration.generate(privateKey: directory + "/b.key", publicKey: directory + "/b.pub", passphrase: "pass phrase")
        let a = try SigningKey(path: directory + "/a.key", environment: [:])
        let b = try SigningKey(path: directory + "/b.key", environment: ["COSIGN_PASSWORD": "pass phrase"])
        let message = Array("payload".utf8)
        let signature = try a.sign(message)
        #expect(try VerificationKey(path: directory + "/a.pub").verify(signature: signature, message: message))
        #expect(!(try VerificationKey(path: directory + "/b.pub").verify(signature: signature, message: message)))
        #expect(!(try VerificationKey(path: directory + "/a.pub").verify(signature: signature, message: Array("other".utf8))))
        #expect(b.verificationKey.verify(signature: try b.sign(message), message: message))
        #expect(throws: (any Error).self) { try SigningKey(path: directory + "/b.key", environment: [:]) }
        #expect(throws: (any Error).self) { try SigningKey(path: directory + "/b.key", environment: ["GANTRY_KEY_PASSWORD": "wrong"]) }
        #expect(throws: (any Error).self) {
            try KeyGeneration.generate(privateKey: directory + "/a.key", publicKey: directory + "/c.pub", passphrase: nil)
        }
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/a.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A file signed in chunks verifies as one signed whole does (and as openssl checks it:
    /// release_test), and not once a byte of it changes.
    @Test func blobSignaturesCoverTheWholeFile() throws {
        let directory = NSTemporaryDirectory() + "gantry-blob-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try KeyGeneration.generate(privateKey: directory + "/k.key", publicKey: directory + "/k.pub", passphrase: nil)
        let key = try SigningKey(path: directory + "/k.key", environment: [:])
        let publicKey = try VerificationKey(path: directory + "/k.pub")
        // Over a chunk boundary (256 KiB) by a few bytes.
        var bytes = (0..<(256 << 10) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        FileManager.default.createFile(atPath: directory + "/blob", contents: Data(bytes))
        let signature = try BlobSignature.sign(file: directory + "/blob", with: key)
        #expect(publicKey.verify(signature: [UInt8](Data(base64Encoded: signature)!), message: bytes))
        #expect(try BlobSignature.verify(file: directory + "/blob", signature: signature + "\n", with: publicKey))
        bytes[bytes.count - 1] ^= 1
        FileManager.default.createFile(atPath: directory + "/blob", contents: Data(bytes))
        #expect(!(try BlobSignature.verify(file: directory + "/blob", signature: signature, with: publicKey)))
        #expect(throws: (any Error).self) { try BlobSignature.verify(file: directory + "/blob", signature: "not base64!", with: publicKey) }
    }
}
