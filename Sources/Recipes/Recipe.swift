import FoundationEssentials
import Glibc
import ByteStreams
import YAML
import Diagnostics
import SystemSupport

/// `gantry.yaml`: what to build. Parsed strictly: an unknown key or a value of the
/// wrong type is an error naming the file and line, so typos never pass silently.
/// Relative paths are resolved against the recipe's directory.
public struct Recipe: Sendable {
    public var base: String?
    public var platform: String?
    /// Several platforms: one image each under an index.
    public var platforms: [String] = []
    public var layers: [LayerSpec] = []
    /// entrypoint, cmd, env (in order; later entries win over earlier ones and
    /// over the base's), workdir, user, ports, volumes, labels, stopSignal.
    public var settings = ImageSettings()
    /// Default for layers that do not set their own.
    public var compression: String?
    public var tag: String?
    /// A registry repository holding the layer cache for fresh build agents (`--cache-repo`).
    public var cacheRepo: String?
    /// `model:` (one) or `models:` (several, each baked into the app image at its
    /// own destination); empty without either.
    public var models: [RecipeModel] = []
    public var python: RecipePython?
    /// `packages:`: OS packages from Debian or Ubuntu repositories, installed without running anything.
    public var packages: RecipePackages?
    /// `deploy:` flattened to dotted keys (`autoscale.maxReplicas`, `env.NAME`), with their lines.
    public var deploy: [RecipeSetting] = []
    /// `test:`: what `gantry test` checks in the running image.
    public var test: TestPlan?

    public init() {}
}

/// One `key: value` of a nested section, with where it was written.
public struct RecipeSetting: Sendable, Equatable {
    public var key: String
    public var value: String
    public var location: String
}

/// `model:`, or one entry of `models:`, as written in the recipe (validated into `ModelSettings` by the build).
public struct RecipeModel: Sendable, Equatable {
    public var source: String
    public var sha256: String?
    public var destination: String?
    /// The model's license as its publisher states it (an SPDX id where there is one), for the SBOM.
    public var license: String? = nil
    /// `image: REPO[:TAG]`: the model goes into an image of its own, not the app's.
    public var image: String? = nil
    /// For a model that is a set of files (a directory, a blob-storage prefix):
    /// `.dockerignore`-style patterns over names relative to it; with `include`,
    /// only the files it matches, then less those `exclude` matches.
    public var include: [String] = []
    public var exclude: [String] = []
}

/// `packages:` as written in the recipe.
public struct RecipePackages: Sendable, Equatable {
    /// `name` or `name=version`, as apt-get install takes them.
    public var install: [String] = []
    /// Names never installed: a dependency on one counts as met.
    public var exclude: [String] = []
    /// Where to install from; empty: the repositories the base declares.
    public var repositories: [RecipeRepository] = []

    public init() {}
}

/// One `packages.repositories` entry: a Debian repository and the key its Release is signed with.
public struct RecipeRepository: Sendable, Equatable {
    public var url: String
    public var suite: String
    public var components: [String]
    /// A keyring file (binary or ASCII-armored), relative to the recipe.
    public var key: String

    public init(url: String, suite: String, components: [String], key: String) {
        self.url = url
        self.suite = suite
        self.components = components
        self.key = key
    }
}

/// `python:` as written in the recipe.
public struct RecipePython: Sendable, Equatable {
    public var requirements: String
    public var version: String?
    public var target: String?
    public var platform: String?
}

public struct EnvironmentVariable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=value` (the value may be empty or contain '=').
    public init(parsing text: String, source: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw Failure(.usage, "\(source): '\(text)' is not NAME=value")
        }
        name = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
    }
}

/// One `layers:` item.
public struct LayerSpec: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var ignore: [String] = []
    /// `uid[:gid]`, numeric.
    public var ownership: String?
    /// Octal permission bits for the layer's regular files (`COPY --chmod`), e.g. `0644`.
    public var mode: String?
    public var compression: String?
    public var allowExternalSymlinks = false

    public init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }

    /// Parses the `--layer SOURCE:DESTINATION` flag form.
    public init(flag text: String) throws {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              text[text.index(after: colon)...].hasPrefix("/") else {
            throw Failure(.usage, "--layer '\(text)' must be SOURCE:/absolute/destination, e.g. app:/app")
        }
        self.init(source: String(text[..<colon]), destination: String(text[text.index(after: colon)...]))
    }
}

extension Recipe {
    /// Reads and validates the recipe file at `path`.
    public static func load(path: String) throws -> Recipe {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(.missingInput, "recipe \(path) does not exist; run 'gantry init' to write one, or pass --file")
        }
        var info = stat()
        let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
        guard size <= maximumBytes else {
            throw Failure(.usage, "recipe \(path) is \(ByteCount.format(Int64(size))), larger than the \(maximumBytes >> 20) MiB a recipe may be; a recipe names its inputs (files, directories, URLs) rather than holding them")
        }
        let bytes: [UInt8]
        do { bytes = try FileReader.readSmallFile(path, limit: maximumBytes) } catch {
            throw Failure(.missingInput, "cannot read recipe \(path): \(error)", cause: error)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (line, offset) = firstInvalidUTF8(in: bytes)
            throw Failure(.usage, "recipe \(path):\(line): byte \(offset) is not UTF-8 text; save the file as UTF-8")
        }
        return try parse(text, source: path, directory: PathName.parent(of: path))
    }

    /// A recipe is a few KiB; this bound keeps a mistaken file from costing seconds.
    public static let maximumBytes = 1 << 20

    /// The line (from 1) and byte offset of the first byte that breaks UTF-8.
    static func firstInvalidUTF8(in bytes: [UInt8]) -> (line: Int, offset: Int) {
        var line = 1, index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            guard length > 0, index + length <= bytes.count,
                  String(validating: bytes[index..<(index + length)], as: UTF8.self) != nil else { return (line, index) }
            if byte == 0x0A { line += 1 }
            index += length
        }
        return (line, index)
    }

    /// Parses recipe text. `directory` anchors relative layer sources.
    public static func parse(_ text: String, source: String, directory: String) throws -> Recipe {
        let node: YAMLNode?
        do {
            node = try YAMLParser.parse(text)
        } catch {
            throw Failure(.usage, "\(source): not valid YAML: \(error)", cause: error)
        }
        guard let node else { throw Failure(.usage, "\(source) is empty; run 'gantry init' for a starter recipe") }
        return try RecipeReader(source: source, directory: directory).recipe(from: node)
    }
}
