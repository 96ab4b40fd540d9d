import FoundationEssentials
import OCI
import ContentStore
import Layering
import Registry
import Images
import SupplyChain
import Diagnostics
import DebianPackages
import ImageContents

/// A build's images as `SoftwareInventory` values, for their SBOMs: layers with
/// their roles, the base and its OS packages (`BaseFacts`: each base layer read
/// once per store), the Python distributions from the dependencies layer's install
/// directory, and each model with its redacted source and declared license.
public struct InventoryCollector {
    public let store: ContentStore
    public let registry: RegistrySettings

    public init(store: ContentStore, registry: RegistrySettings) {
        self.store = store
        self.registry = registry
    }

    /// One inventory per image of `result`, in its order; `repository` is where
    /// they were pushed (nil for local outputs).
    public func inventories(of result: BuildResult, repository: String?,
                            toolVersion: String) throws -> [SoftwareInventory] {
        let facts = BaseFacts(store: store, registry: registry)
        return try zip(result.images, result.parts).map { image, parts in
            let baseLayers = parts.base.layers.map {
                SoftwareInventory.Layer(descriptor: $0.descriptor, role: .base, destination: "base")
            }
            let newLayers = parts.layers.map { layer -> SoftwareInventory.Layer in
                let role: SoftwareInventory.Layer.Role
                switch layer.role {
                case .packages: role = .packages
                case .dependencies: role = .dependencies
                case .model: role = .model
                case .app: role = .app
                }
                return SoftwareInventory.Layer(descriptor: layer.descriptor, role: role, destination: layer.destination)
            }
            var python: [PythonPackage] = []
            if let directory = parts.pythonDirectory {
                python = PythonDistributions.read(directory: directory)
            } else if parts.layers.contains(where: { $0.role == .dependencies }) {
                Warnings.emit("the SBOM of \(parts.platform) lists no Python packages: its dependencies layer came from the registry layer cache, and pip's install is not on this machine (build once without --cache-repo to list them)")
            }
            let models = result.models.map { built in
                var model = SoftwareInventory.Model(source: built.fetched.source, digest: built.fetched.digest, size: built.fetched.size,
                                                    destination: built.settings.imagePath, license: built.settings.license)
                model.files = (built.fetched.files ?? []).map { file in
                    SoftwareInventory.Model.File(path: model.destination + "/" + file.relativePath, digest: file.digest, size: file.size)
                }
                return model
            }
            return SoftwareInventory(repository: repository, imageDigest: image.manifestDescriptor.digest, platform: parts.platform,
                                     created: image.config.created ?? "1970-01-01T00:00:00Z", layers: baseLayers + newLayers,
                                     baseName: parts.base.name, baseDigest: parts.base.digest,
                                     osPackages: try Self.osPackages(base: try facts.osPackages(in: parts.base), added: parts.osPackages), pythonPackages: python,
                                     models: models, toolVersion: toolVersion)
        }
    }

    /// The base's OS packages with the build's added on top (an upgraded one replaces the base's).
    static func osPackages(base: [OSPackage], added: [ResolvedPackage]) -> [OSPackage] {
        let names = Set(added.map(\.name))
        let new = added.map { OSPackage(manager: .deb, name: $0.name, version: $0.version, architecture: $0.architecture) }
        return (base.filter { $0.manager != .deb || !names.contains($0.name) } + new).sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }
}
