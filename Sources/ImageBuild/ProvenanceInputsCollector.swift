import FoundationEssentials
import OCI
import ByteStreams
import SupplyChain
import SystemSupport

/// A build's provenance inputs (SLSA's external parameters and resolved
/// dependencies), from its request: the recipe by digest, the settings that shaped
/// the image, and every input with its digest — the base, the model (source
/// redacted), the requirements file, the git source and revision; for a locked
/// build, the lock and each wheel and .deb it pinned.
public enum ProvenanceInputsCollector {
    public static func inputs(of result: BuildResult, request: BuildRequest, recipePath: String?, toolVersion: String) -> ProvenanceInputs {
        let recipe = recipePath.flatMap { path in
            (try? FileReader.readSmallFile(path, limit: 16 << 20)).map { (path: PathName.lastComponent(of: path), sha256: SHA256Hasher.hash($0).hex) }
        }
        var parameters: [String: String] = ["base": request.base.description, "compression": request.compression.description]
        if !request.platforms.isEmpty { parameters["platforms"] = request.platforms.map(\.description).joined(separator: ",") }
        if let target = request.pushTarget { parameters["push"] = target.description }
        if let epoch = request.sourceDateEpoch { parameters["SOURCE_DATE_EPOCH"] = String(epoch) }
        var dependencies: [ProvenanceInputs.Dependency] = []
        var seenBases = Set<Digest>()
        for parts in result.parts {
            guard let name = parts.base.name, let digest = parts.base.digest, seenBases.insert(digest).inserted else { continue }
            dependencies.append(.init(name: "base \(parts.platform)", uri: "oci://\(name)@\(digest)", digest: ["sha256": digest.encoded]))
        }
        for built in result.models {
            let name = result.models.count == 1 ? "model" : "model \(built.settings.name)"
            dependencies.append(.init(name: name, uri: built.fetched.source, digest: ["sha256": built.fetched.digest.encoded]))
        }
        if let python = request.python, let bytes = try? FileReader.readSmallFile(python.requirements, limit: 16 << 20) {
            dependencies.append(.init(name: "python requirements", uri: "file:" + PathName.lastComponent(of: python.requirements),
                                      digest: ["sha256": SHA256Hasher.hash(bytes).hex]))
        }
        // A locked build: the lock itself, and each wheel and .deb it pinned (resolvedDependencies with digests).
        if let lock = request.lock {
            if let bytes = try? FileReader.readSmallFile(lock.path, limit: 64 << 20) {
                dependencies.append(.init(name: "gantry.lock", uri: "file:" + PathName.lastComponent(of: lock.path), digest: ["sha256": SHA256Hasher.hash(bytes).hex]))
            }
            for (platform, entry) in lock.file.platforms.sorted(by: { $0.key < $1.key }) {
                for wheel in entry.python {
                    dependencies.append(.init(name: "python \(wheel.name) \(wheel.version) \(platform)", uri: wheel.url, digest: ["sha256": wheel.sha256]))
                }
                for package in entry.packages {
                    dependencies.append(.init(name: "deb \(package.name) \(package.version) \(package.architecture)", uri: package.url, digest: ["sha256": package.sha256]))
                }
            }
        }
        if let directory = request.contextDirectory {
            let git = GitMetadata.read(directory: directory)
            if let source = git.source, let revision = git.revision {
                dependencies.append(.init(name: "source", uri: "git+\(source)", digest: ["gitCommit": revision]))
            }
        }
        return ProvenanceInputs(recipe: recipe, parameters: parameters, dependencies: dependencies, toolVersion: toolVersion)
    }
}
