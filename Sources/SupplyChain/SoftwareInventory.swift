import OCI
import Layering
import ImageContents

/// Everything an image holds that a build knows exactly, for its SBOM and
/// provenance: the image and its layers, the base it came from and that base's OS
/// packages, every Python distribution of the dependencies layer, the model and the
/// app. Made by the build (ImageBuild's `InventoryCollector`), rendered by
/// `SPDXWriter` and `CycloneDXWriter`.
public struct SoftwareInventory: Sendable {
    public struct Layer: Sendable, Equatable {
        public enum Role: String, Sendable { case base, packages, dependencies, model, app }
        public var descriptor: Descriptor
        public var role: Role
        /// Where its files go in the image (`/app`), or "base".
        public var destination: String

        public init(descriptor: Descriptor, role: Role, destination: String) {
            self.descriptor = descriptor
            self.role = role
            self.destination = destination
        }
    }

    public struct Model: Sendable, Equatable {
        /// Where it came from, credentials and SAS signatures already removed.
        public var source: String
        public var digest: Digest
        public var size: Int64
        public var destination: String
        /// As the recipe declares it (`model.license`).
        public var license: String?
        /// A model that is a set of files (a directory, a blob-storage prefix): each
        /// file at its path in the image; empty for a single file.
        public var files: [File] = []

        public struct File: Sendable, Equatable {
            public var path: String
            public var digest: Digest
            public var size: Int64

            public init(path: String, digest: Digest, size: Int64) {
                self.path = path
                self.digest = digest
                self.size = size
            }
        }

        public init(source: String, digest: Digest, size: Int64, destination: String, license: String?) {
            self.source = source
            self.digest = digest
            self.size = size
            self.destination = destination
            self.license = license
        }
    }

    /// The repository the image is pushed to (`registry/path`), when it is.
    public var repository: String?
    public var imageDigest: Digest
    public var platform: Platform
    /// The image's `created` (SOURCE_DATE_EPOCH): the documents' time, so the same
    /// inputs give the same bytes.
    public var created: String
    public var layers: [Layer]
    public var baseName: String?
    public var baseDigest: Digest?
    public var osPackages: [OSPackage]
    public var pythonPackages: [PythonPackage]
    /// The models, in the recipe's order (`models:`), one for `model:`.
    public var models: [Model]
    public var toolVersion: String

    public init(repository: String?, imageDigest: Digest, platform: Platform, created: String, layers: [Layer],
                baseName: String?, baseDigest: Digest?, osPackages: [OSPackage], pythonPackages: [PythonPackage],
                models: [Model], toolVersion: String) {
        self.repository = repository
        self.imageDigest = imageDigest
        self.platform = platform
        self.created = created
        self.layers = layers
        self.baseName = baseName
        self.baseDigest = baseDigest
        self.osPackages = osPackages
        self.pythonPackages = pythonPackages
        self.models = models
        self.toolVersion = toolVersion
    }

    /// The last model layer holding `model`: one at its path or below it (a set's
    /// shard layers sit at the set's path + the shard's name).
    public func layerIndex(holding model: Model) -> Int? {
        layers.indices.last { index in
            layers[index].role == .model
                && (layers[index].destination == model.destination || layers[index].destination.hasPrefix(model.destination + "/"))
        }
    }

    /// The image's name in messages and documents: its repository, else "image".
    public var imageName: String { repository ?? "image" }
}
