import FoundationEssentials
import Glibc
import ByteStreams
import OCI
import Images
import ImageBuild
import Registry
import SystemSupport

/// The human-readable lines `gantry build` prints.
enum BuildOutput {
    static func line(for layer: LayerReport) -> String {
        let how: String
        switch layer.source {
        case .base: how = "from base"
        case .cached: how = "cached"
        case .registryCache: how = "cached (registry)"
        case .built: how = cFormat("built in %.2fs", layer.seconds)
        }
        let size = ByteCount.format(layer.blob.descriptor.size).padded(to: 10)
        let name = layer.description.padded(to: max(12, layer.description.count))
        return "layer  \(name) \(size) \(layer.blob.descriptor.digest.short)  \(how)\n"
    }

    /// `--json`: what a CI step needs to pass on, the app and model paired (`models`
    /// for several, each with its name and path in the image).
    static func json(_ result: BuildResult, pushed: PushResult?, pushedModel: PushResult?) throws -> [UInt8] {
        var object: [String: JSONValue] = [
            "digest": .string(result.root.digest.description),
            "platforms": .array(result.images.map { .object(["platform": .string($0.config.platform.description),
                                                              "digest": .string($0.manifestDescriptor.digest.description)]) }),
        ]
        if let pushed { object["reference"] = .string(pushed.reference) }
        if let modelImage = result.modelImage {
            var model: [String: JSONValue] = ["digest": .string(modelImage.root.digest.description)]
            if let pushedModel { model["reference"] = .string(pushedModel.reference) }
            if let fetched = result.model { model["sha256"] = .string(fetched.digest.description) }
            object["modelImage"] = .object(model)
        } else if let fetched = result.model {
            object["model"] = .object(["sha256": .string(fetched.digest.description), "source": .string(fetched.source)])
        } else if !result.models.isEmpty {
            object["models"] = .array(result.models.map { built in
                .object(["name": .string(built.settings.name), "path": .string(built.settings.imagePath),
                         "sha256": .string(built.fetched.digest.description), "source": .string(built.fetched.source)])
            })
        }
        return try CanonicalJSON.encode(JSONValue.object(object))
    }

    static func summary(_ result: BuildResult, outputs: [ImageLocation]) -> String {
        var text = ""
        if result.isIndex {
            for image in result.images {
                text += "image  \(image.config.platform.description.padded(to: 12)) \(image.manifestDescriptor.digest)\n"
            }
            text += "index  \(result.root.digest)\n"
        } else {
            text += "config \(result.images[0].manifest.config.digest.short)\n"
            text += "image  \(result.root.digest)\n"
        }
        for output in outputs { text += "wrote  \(output)\n" }
        return text
    }
}
