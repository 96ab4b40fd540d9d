import Foundation
import Testing
import OCI
import ImageContents
@testable import SupplyChain

/// The SBOM and provenance documents, byte for byte, for one fixed inventory:
/// any change to what gantry writes shows up as a diff of `golden/` in review.
/// Regenerate on purpose with GANTRY_UPDATE_GOLDEN=1 swift test --filter GoldenDocument.
@Suite struct GoldenDocumentTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden").path

    static func inventory() throws -> SoftwareInventory {
        let digest = try Digest("sha256:" + String(repeating: "12", count: 32))
        let base = try Digest("sha256:" + String(repeating: "34", count: 32))
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: base, size: 31_457_280)
        let app = Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 2048)
        return SoftwareInventory(
            repository: "myreg.azurecr.io/team/flask-app", imageDigest: digest, platform: Platform(os: "linux", architecture: "amd64"),
            created: "2026-12-04T00:00:00Z",
            layers: [.init(descriptor: layer, role: .base, destination: "base"), .init(descriptor: app, role: .app, destination: "/app")],
            baseName: "docker.io/library/python:3.12-slim", baseDigest: base,
            osPackages: [OSPackage(manager: .deb, name: "bash", version: "5.2.15-2+b2"), OSPackage(manager: .deb, name: "libc6", version: "2.36-9+deb12u9")],
            pythonPackages: [PythonPackage(name: "flask", version: "3.1.3", license: "BSD-3-Clause"),
                             PythonPackage(name: "gunicorn", version: "23.0.0", license: "MIT")],
            models: [.init(source: "https://account.blob.core.windows.net/models/classifier.json", digest: digest, size: 4096,
                          destination: "/models/classifier.json", license: "Apache-2.0")],
            toolVersion: "0.2.0")
    }

    static func check(_ bytes: [UInt8], against name: String) throws {
        let path = directory + "/" + name
        if ProcessInfo.processInfo.environment["GANTRY_UPDATE_GOLDEN"] == "1" {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let golden = try #require(FileManager.default.contents(atPath: path), "missing golden file \(path)")
        #expect(Array(golden) == bytes, "\(name) differs from its golden file; if the change is meant, regenerate with GANTRY_UPDATE_GOLDEN=1")
    }

    @Test func spdxDocument() throws {
        try Self.check(try SPDXWriter.document(try Self.inventory()), against: "inventory.spdx.json")
    }

    @Test func cycloneDXDocument() throws {
        try Self.check(try CycloneDXWriter.document(try Self.inventory()), against: "inventory.cdx.json")
    }

    @Test func provenanceInAnUnsignedDSSEEnvelope() throws {
        let inventory = try Self.inventory()
        let inputs = ProvenanceInputs(recipe: ("gantry.yaml", String(repeating: "ab", count: 32)),
                                      parameters: ["platforms": "linux/amd64", "push": "myreg.azurecr.io/team/flask-app:1"],
                                      dependencies: [.init(name: "base", uri: "pkg:docker/library/python@3.12-slim",
                                                           digest: ["sha256": String(repeating: "34", count: 32)])],
                                      toolVersion: "0.2.0")
        let statement = try ProvenanceStatement.statement(subjectName: inventory.imageName, subject: inventory.imageDigest,
                                                          inputs: inputs, created: inventory.created)
        try Self.check(statement, against: "provenance.intoto.json")
        let envelope = try DSSEEnvelope.envelope(payloadType: DSSEEnvelope.inTotoPayloadType, payload: statement, key: nil)
        try Self.check(envelope, against: "provenance.dsse.json")
    }
}
