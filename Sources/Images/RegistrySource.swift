import OCI
import ContentStore
import Registry

/// Images in a registry (`python:3.12-slim`, `myreg.azurecr.io/base@sha256:…`),
/// pulled into the store: manifests checked against their digests, layers
/// downloaded in parallel.
public struct RegistrySource: ManifestSource {
    public let reference: Reference
    public let puller: ImagePuller
    public let description: String
    /// A build's base: only its manifest and config are fetched (see `LayerBackfill`).
    public let layersOnDemand: Bool

    public init(reference: Reference, puller: ImagePuller, role: String = "base", layersOnDemand: Bool = false) {
        self.reference = reference
        self.puller = puller
        self.layersOnDemand = layersOnDemand
        description = "\(role) \(reference)"
    }

    public var store: ContentStore { puller.store }

    /// The reference without its digest: where the base came from, and where a
    /// push to the same registry mounts its layers from.
    public var baseName: String? {
        var name = reference
        name.digest = nil
        return name.description
    }

    public func root() throws -> Descriptor { try puller.root(reference) }

    public func fetch(_ descriptors: [Descriptor]) throws { try puller.fetch(descriptors, repository: reference.repository) }
}
