import OCI
import ByteStreams
import Fetch
import Layering
import Recipes
import Diagnostics
import SystemSupport

/// `model:` in gantry.yaml: a pretrained model fetched at build time into a layer of its own.
public struct ModelSettings: Sendable, Equatable {
    public var source: ModelSource
    /// A `sha256:` pin: a different file is an error and is not used.
    public var sha256: Digest?
    /// Path in the image; a trailing `/` means "into this directory, with the source's file name".
    public var destination: String = "/models/"
    /// For the SBOM (`model.license`).
    public var license: String?
    /// `include:` / `exclude:` for a model that is a set of files (see `RecipeModel`).
    public var include: [String] = []
    public var exclude: [String] = []
    /// `model.image` / `--model-image`: the model is built into an image of its own
    /// (`REPO[:TAG]`; without a registry, the one the app is pushed to), and the app
    /// image does not contain it.
    public var image: String?

    /// Where the model image holds the file: at its root, so that an image volume
    /// mounted at `mountPath` shows it at `imagePath`.
    public var fileInModelImage: String { "/" + PathName.lastComponent(of: imagePath) }
    /// The directory an image volume of the model image is mounted at.
    public var mountPath: String { PathName.parent(of: imagePath) }

    public init(source: ModelSource) { self.source = source }

    /// Which files of a set the model keeps, by name relative to the set:
    /// `include` (when given) must match, then `exclude` must not. Patterns are
    /// `.dockerignore`'s (`*` stays in one component: `**/*.json` for any depth).
    public func fileSelection() throws -> @Sendable (String) -> Bool {
        let included = include.isEmpty ? nil : try IgnoreRules(patterns: include, source: "model.include")
        let excluded = try IgnoreRules(patterns: exclude, source: "model.exclude")
        return { name in (included?.excludes(name) ?? true) && !excluded.excludes(name) }
    }

    /// `sha256:<hex>` or bare hex.
    public static func parsePin(_ text: String) throws -> Digest {
        try InputRules.modelPin(text)
    }

    public var imagePath: String {
        destination.hasSuffix("/") ? destination + source.fileName : destination
    }

    /// The model's name among several (its labels, `${MODEL_DIGEST:NAME}`): the
    /// last component of where it lands in the image.
    public var name: String { PathName.lastComponent(of: imagePath) }

    /// Several models of one image land apart: distinct names, and none inside
    /// another's path (its files would overlay the other model's).
    public static func checkApart(_ models: [ModelSettings]) throws {
        var byName: [String: ModelSettings] = [:]
        for model in models {
            if let other = byName[model.name] {
                throw Failure(.usage, "models \(other.source) and \(model.source) would both be named '\(model.name)' (\(other.imagePath), \(model.imagePath)); give them destinations with different last names")
            }
            byName[model.name] = model
            for other in models where other.imagePath != model.imagePath && model.imagePath.hasPrefix(other.imagePath + "/") {
                throw Failure(.usage, "model \(model.source) lands at \(model.imagePath), inside model \(other.source) at \(other.imagePath); give each model a directory of its own")
            }
        }
    }
}

/// Labels recording which model an image carries.
public enum ModelLabel {
    public static let digest = "io.gantry.model.digest"
    public static let source = "io.gantry.model.source"
    public static let size = "io.gantry.model.size"
    /// Where the app expects the model (the image volume's mount path + the file name).
    public static let path = "io.gantry.model.path"

    /// Per-model labels of an image with several models (`models:`).
    public static func digest(named name: String) -> String { "io.gantry.model.\(name).digest" }
    public static func source(named name: String) -> String { "io.gantry.model.\(name).source" }

    /// The directory a model image is mounted at, from its `path` label; `image`
    /// names it in the error.
    public static func mountPath(labels: [String: String]?, image: String) throws -> String {
        guard let path = labels?[Self.path] else {
            throw Failure(.invalidInput, "model image \(image) has no \(Self.path) label; build it with gantry (model.image)")
        }
        return PathName.parent(of: path)
    }
}
