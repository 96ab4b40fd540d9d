import FoundationEssentials
import OCI
import Diagnostics

/// `gantry.lock`: every input of a build that can move, pinned — per platform the
/// base's manifest digest, each Python distribution (the wheel's URL and SHA-256)
/// and each OS package (its .deb's SHA-256 and the repository's Release date), and
/// each model file (its listing identity, size and SHA-256) — plus the digest of
/// the recipe fields that shape the image. The same commit then builds the same
/// image months later, and an input that moves is a change someone reviews.
public struct LockFile: Sendable, Equatable {
    /// The format this gantry writes and reads; a newer one is refused with a clear line.
    public static let formatVersion = 1

    public struct Base: Sendable, Equatable {
        /// As the recipe names it (`python:3.12-slim`, `oci:base:1`, `rootfs:base.tar`).
        public var reference: String
        /// The manifest's digest (registry, layout) or the tarball's SHA-256 (rootfs).
        public var digest: String
        public init(reference: String, digest: String) { self.reference = reference; self.digest = digest }
    }

    public struct PythonDistribution: Sendable, Equatable {
        public var name: String
        public var version: String
        public var url: String
        public var sha256: String
        public init(name: String, version: String, url: String, sha256: String) {
            self.name = name; self.version = version; self.url = url; self.sha256 = sha256
        }
    }

    public struct OSPackage: Sendable, Equatable {
        public var name: String
        public var version: String
        public var architecture: String
        public var url: String
        public var size: Int64
        public var sha256: String
        public init(name: String, version: String, architecture: String, url: String, size: Int64, sha256: String) {
            self.name = name; self.version = version; self.architecture = architecture; self.url = url; self.size = size; self.sha256 = sha256
        }
    }

    /// What one platform's image is made of, below the app's own files.
    public struct Platform: Sendable, Equatable {
        public var base: Base?
        public var python: [PythonDistribution] = []
        public var packages: [OSPackage] = []
        public init(base: Base? = nil, python: [PythonDistribution] = [], packages: [OSPackage] = []) {
            self.base = base; self.python = python; self.packages = packages
        }
    }

    public struct ModelFile: Sendable, Equatable {
        /// Relative to the model's source (`""` for a single-file model).
        public var path: String
        /// What the source's listing said of it: an ETag or a version id (empty for a local file).
        public var identity: String
        public var size: Int64
        public var sha256: String
        public init(path: String, identity: String, size: Int64, sha256: String) {
            self.path = path; self.identity = identity; self.size = size; self.sha256 = sha256
        }
    }

    public struct Model: Sendable, Equatable {
        /// The recipe's source (credentials and SAS query strings are never written).
        public var source: String
        public var destination: String
        public var files: [ModelFile]
        public init(source: String, destination: String, files: [ModelFile]) {
            self.source = source; self.destination = destination; self.files = files
        }
    }

    /// SHA-256 over the recipe fields that shape the image (not its tests or deploy settings).
    public var recipe: String
    /// Keyed by platform (`linux/amd64`).
    public var platforms: [String: Platform]
    public var models: [Model]
    /// `gantry 0.2.0`: who wrote it (informational).
    public var generator: String

    public init(recipe: String, platforms: [String: Platform], models: [Model], generator: String) {
        self.recipe = recipe
        self.platforms = platforms
        self.models = models
        self.generator = generator
    }
}
