import OCI
import Layering
import ByteStreams
import SystemSupport

/// An image's SBOM as SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3): the image,
/// its base, every layer with its digest, the base's OS packages, the Python
/// distributions and the model, related by DESCRIBES, DESCENDANT_OF and CONTAINS.
/// Deterministic: the namespace comes from the image digest, the time from the
/// image's `created`, the order from the inventory.
public enum SPDXWriter {
    public static let mediaType = "application/spdx+json"

    public static func document(_ inventory: SoftwareInventory) throws -> [UInt8] {
        var packages: [JSONValue] = []
        var relationships: [JSONValue] = []
        func relate(_ element: String, _ type: String, _ related: String) {
            relationships.append(.object(["spdxElementId": .string(element), "relationshipType": .string(type),
                                          "relatedSpdxElement": .string(related)]))
        }
        func package(_ id: String, name: String, version: String?, purpose: String, sha256: Digest? = nil, purl: String? = nil,
                     license: String? = nil, download: String = "NOASSERTION", comment: String? = nil) {
            var fields: [String: JSONValue] = [
                "SPDXID": .string(id), "name": .string(name), "downloadLocation": .string(download),
                "filesAnalyzed": .bool(false), "primaryPackagePurpose": .string(purpose),
            ]
            if let version { fields["versionInfo"] = .string(version) }
            if let sha256 { fields["checksums"] = .array([.object(["algorithm": .string("SHA256"), "checksumValue": .string(sha256.encoded)])]) }
            if let purl {
                fields["externalRefs"] = .array([.object(["referenceCategory": .string("PACKAGE-MANAGER"), "referenceType": .string("purl"),
                                                          "referenceLocator": .string(purl)])])
            }
            if let declared = SPDXLicense.expression(license) {
                fields["licenseDeclared"] = .string(declared)
            } else if let license {
                fields["licenseComments"] = .string("declared as: \(license)")
            }
            var notes = [comment].compactMap { $0 }
            if fields["licenseDeclared"] == nil && license == nil { notes.append("license not recorded") }
            if !notes.isEmpty { fields["comment"] = .string(notes.joined(separator: "; ")) }
            packages.append(.object(fields))
        }

        let image = "SPDXRef-Image"
        package(image, name: inventory.imageName, version: inventory.imageDigest.description, purpose: "CONTAINER",
                sha256: inventory.imageDigest,
                purl: PackageURL.oci(repository: inventory.repository, digest: inventory.imageDigest, architecture: inventory.platform.architecture),
                comment: "image manifest for \(inventory.platform), built by gantry \(inventory.toolVersion)")
        relate("SPDXRef-DOCUMENT", "DESCRIBES", image)
        var osOwner = image
        if let baseName = inventory.baseName, let baseDigest = inventory.baseDigest {
            package("SPDXRef-Base", name: baseName, version: baseDigest.description, purpose: "CONTAINER", sha256: baseDigest,
                    purl: PackageURL.oci(repository: baseName, digest: baseDigest), comment: "the base image")
            relate(image, "DESCENDANT_OF", "SPDXRef-Base")
            osOwner = "SPDXRef-Base"
        }
        var dependenciesLayer: String?
        var layerIDs: [String] = []
        for (number, layer) in inventory.layers.enumerated() {
            let id = "SPDXRef-Layer-\(number + 1)"
            layerIDs.append(id)
            package(id, name: "layer \(number + 1): \(layer.destination)", version: layer.descriptor.digest.description, purpose: "ARCHIVE",
                    sha256: layer.descriptor.digest,
                    comment: "\(layer.role.rawValue) layer, \(layer.descriptor.size) bytes, \(layer.descriptor.mediaType)")
            relate(image, "CONTAINS", id)
            if layer.role == .dependencies { dependenciesLayer = id }
        }
        for (number, os) in inventory.osPackages.enumerated() {
            let id = "SPDXRef-\(os.manager.rawValue)-\(number + 1)"
            package(id, name: os.name, version: os.version, purpose: "LIBRARY",
                    purl: os.manager == .deb ? PackageURL.deb(os) : PackageURL.apk(os), license: os.license)
            relate(osOwner, "CONTAINS", id)
        }
        for (number, python) in inventory.pythonPackages.enumerated() {
            let id = "SPDXRef-pypi-\(number + 1)"
            package(id, name: python.name, version: python.version, purpose: "LIBRARY", purl: PackageURL.pypi(python), license: python.license)
            relate(dependenciesLayer ?? image, "CONTAINS", id)
        }
        for (index, model) in inventory.models.enumerated() {
            // The first model keeps the ids a one-model image always had.
            let modelID = index == 0 ? "SPDXRef-Model" : "SPDXRef-Model-\(index + 1)"
            let download = model.source.hasPrefix("https://") || model.source.hasPrefix("http://") ? model.source : "NOASSERTION"
            package(modelID, name: PathName.lastComponent(of: model.destination), version: model.digest.description, purpose: "OTHER",
                    sha256: model.digest, license: model.license, download: download,
                    comment: "machine-learning model from \(model.source), \(model.size) bytes, at \(model.destination)")
            relate(inventory.layerIndex(holding: model).map { layerIDs[$0] } ?? image, "CONTAINS", modelID)
            // A set's files, each with its own digest (packages: SPDX 2.3 files would need a SHA-1 nobody computed).
            for (number, file) in model.files.enumerated() {
                let id = "\(modelID)-File-\(number + 1)"
                package(id, name: file.path, version: nil, purpose: "FILE", sha256: file.digest, license: model.license,
                        comment: "model file, \(file.size) bytes")
                relate(modelID, "CONTAINS", id)
            }
        }
        let document: JSONValue = .object([
            "spdxVersion": .string("SPDX-2.3"), "dataLicense": .string("CC0-1.0"), "SPDXID": .string("SPDXRef-DOCUMENT"),
            "name": .string("\(inventory.imageName)@\(inventory.imageDigest)"),
            "documentNamespace": .string("https://gantry.invalid/spdx/\(inventory.imageDigest.encoded)"),
            "creationInfo": .object(["created": .string(inventory.created),
                                     "creators": .array([.string("Tool: gantry-\(inventory.toolVersion)")])]),
            "packages": .array(packages),
            "relationships": .array(relationships),
        ])
        return try CanonicalJSON.encode(document)
    }
}
