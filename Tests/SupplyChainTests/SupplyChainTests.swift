import Foundation
import Testing
import OCI
import Layering
import ImageContents
@testable import SupplyChain

@Suite struct SupplyChainTests {
    @Test func dpkgAndApkDatabasesListInstalledPackages() {
        let status = """
        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Source: glibc
        Version: 2.36-9+deb12u4
        Description: GNU C Library
         continuation line: not a field

        Package: removed
        Status: deinstall ok config-files
        Version: 1.0

        Package: bash
        Status: install ok installed
        Version: 5.2.15-2+b2
        Source: bash (5.2.15-2)
        """
        let packages = PackageDatabases.dpkgPackages(status)
        #expect(packages.map(\.name) == ["libc6", "bash"])
        #expect(packages[0].source == "glibc" && packages[1].source == nil)
        #expect(PackageURL.deb(packages[0]) == "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&upstream=glibc")
        let apk = PackageDatabases.apkPackages("P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r5\n")
        #expect(apk.map(\.name) == ["musl", "busybox"] && apk[0].license == "MIT")
    }

    @Test func pythonMetadataGivesNameVersionAndALicenseOnlyWhenItIsOne() {
        let flit = "Metadata-Version: 2.4\nName: Flask\nVersion: 3.1.3\nLicense-Expression: BSD-3-Clause\nClassifier: License :: OSI Approved :: BSD License\n\nLicense: not read: the body starts\n"
        #expect(PythonDistributions.metadata(flit) == PythonPackage(name: "Flask", version: "3.1.3", license: "BSD-3-Clause"))
        let classifierOnly = "Name: x\nVersion: 1\nLicense: \(String(repeating: "long text ", count: 20))\nClassifier: License :: OSI Approved :: MIT License\n"
        #expect(PythonDistributions.metadata(classifierOnly)?.license == "MIT License")
        #expect(PackageURL.pypi(PythonPackage(name: "Zope.Interface_x", version: "1.0")) == "pkg:pypi/zope-interface-x@1.0")
        #expect(SPDXLicense.expression("BSD-3-Clause OR (MIT AND Apache-2.0)") != nil)
        #expect(SPDXLicense.expression("Apache-2.0 WITH LLVM-exception") != nil)
        #expect(SPDXLicense.expression("BSD License") == nil && SPDXLicense.expression("MIT AND") == nil && SPDXLicense.expression("(MIT") == nil)
    }

    @Test func dssePreAuthenticationEncodingIsTheSpecs() {
        let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
        // The DSSE spec's own test vector.
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test func documentsAreDeterministicAndNameEveryInput() throws {
        let digest = try Digest("sha256:" + String(repeating: "12", count: 32))
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 10)
        let inventory = SoftwareInventory(
            repository: "reg.test/app", imageDigest: digest, platform: Platform(os: "linux", architecture: "amd64"),
            created: "2023-11-14T22:13:20Z", layers: [.init(descriptor: layer, role: .base, destination: "base")],
            baseName: nil, baseDigest: nil, osPackages: [OSPackage(manager: .deb, name: "bash", version: "5.2")],
            pythonPackages: [PythonPackage(name: "flask", version: "3.1.3", license: "BSD-3-Clause")],
            models: [.init(source: "https://blob.test/m.bin", digest: digest, size: 3, destination: "/models/m.bin", license: "weird")],
            toolVersion: "0.0.0")
        let spdx = try SPDXWriter.document(inventory)
        #expect(spdx == (try SPDXWriter.document(inventory)))
        let text = String(decoding: spdx, as: UTF8.self)
        #expect(text.contains("pkg:pypi/flask@3.1.3") && text.contains("pkg:deb/debian/bash@5.2") && text.contains("declared as: weird"))
        let cyclone = String(decoding: try CycloneDXWriter.document(inventory), as: UTF8.self)
        #expect(cyclone.contains("\"machine-learning-model\"") && cyclone.contains("urn:uuid:12121212-1212-5212-9212-121212121212"))
    }

    /// Two models, one a set in two layers: every id is unique, each model sits in
    /// its own layer, and each set file under its model.
    @Test func severalModelsEachGetTheirOwnIdsAndLayer() throws {
        let digest = try Digest("sha256:" + String(repeating: "12", count: 32))
        func layer(_ destination: String) -> SoftwareInventory.Layer {
            .init(descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 10), role: .model, destination: destination)
        }
        var set = SoftwareInventory.Model(source: "s3://bucket/llm/", digest: digest, size: 30, destination: "/models/llm", license: nil)
        set.files = [.init(path: "/models/llm/a.safetensors", digest: digest, size: 20), .init(path: "/models/llm/config.json", digest: digest, size: 10)]
        let labels = SoftwareInventory.Model(source: "az://acct/c/labels.txt", digest: digest, size: 3, destination: "/models/labels.txt", license: "MIT")
        let inventory = SoftwareInventory(
            repository: "reg.test/app", imageDigest: digest, platform: Platform(os: "linux", architecture: "amd64"),
            created: "2023-11-14T22:13:20Z",
            layers: [layer("/models/llm/a.safetensors"), layer("/models/llm"), layer("/models/labels.txt")],
            baseName: nil, baseDigest: nil, osPackages: [], pythonPackages: [], models: [set, labels], toolVersion: "0.0.0")
        #expect(inventory.layerIndex(holding: set) == 1 && inventory.layerIndex(holding: labels) == 2)

        let spdx = try #require(try JSONSerialization.jsonObject(with: Data(try SPDXWriter.document(inventory))) as? [String: Any])
        let ids = (spdx["packages"] as? [[String: Any]] ?? []).compactMap { $0["SPDXID"] as? String }
        #expect(Set(ids).count == ids.count)
        #expect(ids.contains("SPDXRef-Model") && ids.contains("SPDXRef-Model-2") && ids.contains("SPDXRef-Model-File-2"))
        let relations = (spdx["relationships"] as? [[String: Any]] ?? []).map {
            "\($0["spdxElementId"] ?? "") \($0["relationshipType"] ?? "") \($0["relatedSpdxElement"] ?? "")"
        }
        #expect(relations.contains("SPDXRef-Layer-2 CONTAINS SPDXRef-Model"))
        #expect(relations.contains("SPDXRef-Layer-3 CONTAINS SPDXRef-Model-2"))
        #expect(relations.contains("SPDXRef-Model CONTAINS SPDXRef-Model-File-2"))

        let cyclone = String(decoding: try CycloneDXWriter.document(inventory), as: UTF8.self)
        #expect(cyclone.contains("\"model-2\"") && cyclone.contains("\"model-file-2\"") && !cyclone.contains("\"model-2-file-1\""))
    }
}
