import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Fetch
import Diagnostics
import SystemSupport

/// The model as a CNCF ModelPack artifact (github.com/modelpack/model-spec), for
/// KitOps and Docker Model Runner users: a manifest with `artifactType`
/// `application/vnd.cncf.model.manifest.v1+json`, a model config
/// (`application/vnd.cncf.model.config.v1+json`: descriptor, `modelfs` diffIds,
/// config), and one raw layer per model file — weights as
/// `application/vnd.cncf.model.weight.v1.raw`, the small JSON/text files beside them
/// (config, tokenizer) as `…weight.config.v1.raw` — each annotated with
/// `org.cncf.model.filepath` and `org.opencontainers.image.title` (the name oras
/// pulls it to). Written into an OCI layout (`--output modelpack:oci:DIR[:TAG]`);
/// `gantry push --image oci:DIR:TAG REF` puts it in a registry.
public enum ModelPackExport {
    public static let artifactType = "application/vnd.cncf.model.manifest.v1+json"
    public static let configType = "application/vnd.cncf.model.config.v1+json"
    public static let weightType = "application/vnd.cncf.model.weight.v1.raw"
    public static let weightConfigType = "application/vnd.cncf.model.weight.config.v1.raw"
    public static let filepathAnnotation = "org.cncf.model.filepath"

    /// Writes the artifact for `fetched` (a file, or a local directory's files) into
    /// the layout at `directory`, tagged `tag` (default `latest`). A directory this
    /// call created is removed again when writing fails.
    public static func write(_ fetched: FetchedModel, model: ModelSettings, created: String, store: ContentStore,
                             directory: String, tag: String?) throws -> Descriptor {
        let existed = FileManager.default.fileExists(atPath: directory)
        do {
            let layout = try OCILayout(creatingAt: directory)
            // (path of the bytes, name in the model, digest, size)
            let files: [(source: String, name: String, digest: Digest, size: Int64)]
            if let entries = fetched.files {
                files = entries.map { (fetched.path + "/" + $0.relativePath, $0.relativePath, $0.digest, $0.size) }
                if let absent = files.first(where: { !FileManager.default.fileExists(atPath: $0.source) }) {
                    throw Failure(.missingInput, "model file \(absent.name) is not on this machine (its layer came from the registry cache); build once without --cache-repo to export the model")
                }
            } else {
                guard !fetched.path.isEmpty else {
                    throw Failure(.missingInput, "the model's bytes are not on this machine (its layer came from the registry cache); build once without --cache-repo to export it")
                }
                files = [(fetched.path, PathName.lastComponent(of: model.imagePath), fetched.digest, fetched.size)]
            }
            var layers: [Descriptor] = []
            for file in files {
                let mediaType = isWeightConfig(file.name, size: file.size) ? weightConfigType : weightType
                let descriptor = Descriptor(mediaType: mediaType, digest: file.digest, size: file.size,
                                            annotations: [filepathAnnotation: file.name, AnnotationKey.title: file.name])
                // Raw layers: the file's own bytes, checked against the digest the build took.
                try layout.ingest(file: file.source, expected: descriptor)
                layers.append(descriptor)
            }
            var descriptor: [String: JSONValue] = ["name": .string(PathName.lastComponent(of: model.imagePath)), "createdAt": .string(created)]
            if let license = model.license { descriptor["licenses"] = .array([.string(license)]) }
            if fetched.source.hasPrefix("https://") || fetched.source.hasPrefix("http://") { descriptor["sourceURL"] = .string(fetched.source) }
            var modelConfig: [String: JSONValue] = [:]
            if let format = files.first(where: { !isWeightConfig($0.name, size: $0.size) }).flatMap({ fileExtension($0.name) }) {
                modelConfig["format"] = .string(format)
            }
            let config: JSONValue = .object([
                "descriptor": .object(descriptor),
                "modelfs": .object(["type": .string("layers"), "diffIds": .array(layers.map { .string($0.digest.description) })]),
                "config": .object(modelConfig),
            ])
            let configBytes = try CanonicalJSON.encode(config)
            let configDescriptor = try layout.put(configBytes, mediaType: configType)
            var manifest = Manifest(config: configDescriptor, layers: layers, annotations: [AnnotationKey.created: created])
            manifest.artifactType = artifactType
            var root = try layout.put(try CanonicalJSON.encode(manifest), mediaType: MediaType.ociManifest)
            root.artifactType = artifactType
            let name = tag ?? "latest"
            try layout.index.tag(name, root)
            return root
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    /// Small JSON/text files next to weights (config.json, tokenizer.json,
    /// generation_config.json, vocab.txt …) are weight configs, not weights.
    static func isWeightConfig(_ name: String, size: Int64) -> Bool {
        guard size < 16 << 20 else { return false }
        return [".json", ".txt", ".model", ".yaml", ".yml", ".md"].contains { name.hasSuffix($0) } && fileExtension(name) != nil
    }

    static func fileExtension(_ name: String) -> String? {
        let last = PathName.lastComponent(of: name)
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return nil }
        return String(last[last.index(after: dot)...])
    }
}
