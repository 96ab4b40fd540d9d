import OCI
import Layering
import ByteStreams
import SystemSupport

/// An image's SBOM as CycloneDX 1.6 JSON (cyclonedx.org/docs/1.6/json): the image
/// as the metadata component, then its base, layers, OS packages, Python
/// distributions and the model (`machine-learning-model`), with a dependency graph.
/// Deterministic like `SPDXWriter`: the serial number is derived from the image digest.
public enum CycloneDXWriter {
    public static let mediaType = "application/vnd.cyclonedx+json"

    public static func document(_ inventory: SoftwareInventory) throws -> [UInt8] {
        var components: [JSONValue] = []
        var imageDependsOn: [JSONValue] = []
        var dependencies: [JSONValue] = []
        func hashes(_ digest: Digest) -> JSONValue {
            .array([.object(["alg": .string("SHA-256"), "content": .string(digest.encoded)])])
        }
        func licenses(_ text: String?) -> JSONValue? {
            guard let text else { return nil }
            if let id = SPDXLicense.identifier(text) { return .array([.object(["license": .object(["id": .string(id)])])]) }
            if let expression = SPDXLicense.expression(text) { return .array([.object(["expression": .string(expression)])]) }
            return .array([.object(["license": .object(["name": .string(text)])])])
        }
        func component(_ ref: String, type: String, name: String, version: String?, purl: String? = nil, digest: Digest? = nil,
                       license: String? = nil, description: String? = nil) -> JSONValue {
            var fields: [String: JSONValue] = ["bom-ref": .string(ref), "type": .string(type), "name": .string(name)]
            if let version { fields["version"] = .string(version) }
            if let purl { fields["purl"] = .string(purl) }
            if let digest { fields["hashes"] = hashes(digest) }
            if let licenses = licenses(license) { fields["licenses"] = licenses }
            if let description { fields["description"] = .string(description) }
            return .object(fields)
        }

        if let baseName = inventory.baseName, let baseDigest = inventory.baseDigest {
            components.append(component("base", type: "container", name: baseName, version: baseDigest.description,
                                        purl: PackageURL.oci(repository: baseName, digest: baseDigest), digest: baseDigest,
                                        description: "the base image"))
            imageDependsOn.append(.string("base"))
        }
        var dependenciesLayer: String?
        for (number, layer) in inventory.layers.enumerated() {
            let ref = "layer-\(number + 1)"
            components.append(component(ref, type: "file", name: "layer \(number + 1): \(layer.destination)",
                                        version: layer.descriptor.digest.description, digest: layer.descriptor.digest,
                                        description: "\(layer.role.rawValue) layer, \(layer.descriptor.size) bytes, \(layer.descriptor.mediaType)"))
            imageDependsOn.append(.string(ref))
            if layer.role == .dependencies { dependenciesLayer = ref }
        }
        var osRefs: [JSONValue] = []
        for (number, os) in inventory.osPackages.enumerated() {
            let ref = "\(os.manager.rawValue)-\(number + 1)"
            components.append(component(ref, type: "library", name: os.name, version: os.version,
                                        purl: os.manager == .deb ? PackageURL.deb(os) : PackageURL.apk(os), license: os.license))
            osRefs.append(.string(ref))
        }
        var pythonRefs: [JSONValue] = []
        for (number, python) in inventory.pythonPackages.enumerated() {
            let ref = "pypi-\(number + 1)"
            components.append(component(ref, type: "library", name: python.name, version: python.version,
                                        purl: PackageURL.pypi(python), license: python.license))
            pythonRefs.append(.string(ref))
        }
        var modelLayers: [(layer: String, model: String)] = []
        for (index, model) in inventory.models.enumerated() {
            // The first model keeps the refs a one-model image always had.
            let modelRef = index == 0 ? "model" : "model-\(index + 1)"
            var fields: [String: JSONValue] = [
                "bom-ref": .string(modelRef), "type": .string("machine-learning-model"),
                "name": .string(PathName.lastComponent(of: model.destination)), "version": .string(model.digest.description),
                "hashes": hashes(model.digest),
                "description": .string("machine-learning model from \(model.source), \(model.size) bytes, at \(model.destination)"),
            ]
            if let licenses = licenses(model.license) { fields["licenses"] = licenses }
            if model.source.hasPrefix("https://") || model.source.hasPrefix("http://") {
                fields["externalReferences"] = .array([.object(["type": .string("distribution"), "url": .string(model.source)])])
            }
            if !model.files.isEmpty {
                fields["components"] = .array(model.files.enumerated().map { number, file in
                    .object(["bom-ref": .string("\(modelRef)-file-\(number + 1)"), "type": .string("file"), "name": .string(file.path),
                             "hashes": hashes(file.digest), "description": .string("model file, \(file.size) bytes")])
                })
            }
            components.append(.object(fields))
            if let layer = inventory.layerIndex(holding: model) { modelLayers.append(("layer-\(layer + 1)", modelRef)) }
        }
        dependencies.append(.object(["ref": .string("image"), "dependsOn": .array(imageDependsOn)]))
        if inventory.baseName != nil { dependencies.append(.object(["ref": .string("base"), "dependsOn": .array(osRefs)])) }
        if let dependenciesLayer { dependencies.append(.object(["ref": .string(dependenciesLayer), "dependsOn": .array(pythonRefs)])) }
        for (layer, model) in modelLayers { dependencies.append(.object(["ref": .string(layer), "dependsOn": .array([.string(model)])])) }

        // A name-based UUID from the image digest (version nibble 5, RFC 4122 variant), as the schema's pattern wants.
        let hex = Array(inventory.imageDigest.encoded)
        let variant = Array("89ab")[Int(hex[16].hexDigitValue ?? 0) % 4]
        let serial = "urn:uuid:\(String(hex[0..<8]))-\(String(hex[8..<12]))-5\(String(hex[13..<16]))-\(variant)\(String(hex[17..<20]))-\(String(hex[20..<32]))"
        let document: JSONValue = .object([
            "bomFormat": .string("CycloneDX"), "specVersion": .string("1.6"), "serialNumber": .string(serial), "version": .integer(1),
            "metadata": .object([
                "timestamp": .string(inventory.created),
                "tools": .object(["components": .array([.object(["type": .string("application"), "name": .string("gantry"),
                                                                   "version": .string(inventory.toolVersion)])])]),
                "component": component("image", type: "container", name: inventory.imageName, version: inventory.imageDigest.description,
                                       purl: PackageURL.oci(repository: inventory.repository, digest: inventory.imageDigest,
                                                            architecture: inventory.platform.architecture),
                                       digest: inventory.imageDigest, description: "image manifest for \(inventory.platform)"),
            ]),
            "components": .array(components),
            "dependencies": .array(dependencies),
        ])
        return try CanonicalJSON.encode(document)
    }
}
