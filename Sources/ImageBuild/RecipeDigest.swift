import FoundationEssentials
import OCI
import ByteStreams
import SystemSupport

/// The digest gantry.lock records of a request: SHA-256 over the canonical JSON of
/// what shapes the image's inputs and config (base, platforms, layers, settings,
/// the requirements file's bytes, the packages asked for, the models' sources and
/// destinations) — not tests, outputs or deploy settings, and no machine-specific
/// path: sources are named relative to the recipe's directory. A change to any of
/// these makes the lock stale.
enum RecipeDigest {
    static func of(_ request: BuildRequest) throws -> String {
        let root = request.contextDirectory.map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? ""
        func relative(_ path: String) -> String { !root.isEmpty && path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path }
        func strings(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        let settings = request.settings
        var document: [String: JSONValue] = [
            "base": .string(request.base.description),
            "platforms": strings(request.platforms.map(\.description)),
            "compression": .string(request.compression.description),
            "layers": .array(request.layers.map { layer in
                .object(["source": .string(relative(layer.source)), "destination": .string(layer.destination), "ignore": strings(layer.ignore),
                         "ownership": optional(layer.ownership), "mode": optional(layer.mode), "compression": optional(layer.compression),
                         "allowExternalSymlinks": .bool(layer.allowExternalSymlinks)])
            }),
            "settings": .object([
                "entrypoint": settings.entrypoint.map(strings) ?? .null, "cmd": settings.cmd.map(strings) ?? .null,
                "env": .array(settings.env.map { .string("\($0.name)=\($0.value)") }), "workdir": optional(settings.workdir),
                "user": optional(settings.user), "ports": strings(settings.ports), "volumes": strings(settings.volumes),
                "labels": .object(settings.labels.mapValues(JSONValue.string)), "stopSignal": optional(settings.stopSignal),
            ]),
            "models": .array(request.models.map { .object(["source": .string($0.source.description), "destination": .string($0.imagePath)]) }),
        ]
        if let python = request.python {
            document["python"] = .object([
                "requirements": .string("sha256:" + (try FileReader.digest(of: python.requirements)).sha256.hex),
                "version": .string(python.version), "target": .string(python.target), "platform": optional(python.platformTag),
            ])
        }
        if let packages = request.packages {
            document["packages"] = .object(["install": strings(packages.install), "exclude": strings(packages.exclude),
                                            "repositories": strings(packages.repositories.map { "\($0.source)" })])
        }
        return "sha256:" + SHA256Hasher.hash(try CanonicalJSON.encode(JSONValue.object(document))).hex
    }
}
