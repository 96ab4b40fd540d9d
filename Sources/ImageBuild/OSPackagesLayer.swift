import FoundationEssentials
import OCI
import ByteStreams
import ContentStore
import Layering
import Images
import Diagnostics
import DebianPackages
import SystemSupport

/// The OS packages layer of one platform: resolved against the repositories (the
/// base's own unless the recipe names some) before anything is built, keyed by
/// the chosen set, written from the .debs only when no cache has it.
extension Builder {
    func packagesLayer(_ selection: PackageSelection, platform: Platform, base: BaseImage, request: BuildRequest,
                       facts: BaseFacts, plan: PlanContext) throws -> PlannedLayer {
        guard let architecture = PackageInstaller.debianArchitecture(os: platform.os, architecture: platform.architecture, variant: platform.variant) else {
            throw Failure(.usage, "packages: Debian has no architecture for \(platform); build for a Linux platform Debian supports, or remove 'packages'")
        }
        guard !base.layers.isEmpty else {
            throw Failure(.usage, "packages: the base is empty (scratch); OS packages go on a Debian or Ubuntu base (their libraries need its C library)")
        }
        let system = try facts.system(of: base)
        if system.files["var/lib/dpkg/status"] == nil && !system.files.keys.contains(where: { $0.hasPrefix("var/lib/dpkg/status.d/") }) {
            throw Failure(.usage, "packages: the base has no dpkg database (/var/lib/dpkg/status); OS packages need a Debian or Ubuntu base")
        }
        let installer = PackageInstaller(store: store, selection: selection, architecture: architecture, base: system)
        // --locked: the lock's .debs, not a new resolution against indexes that may have moved.
        let resolved = try request.lock.map { lock in
            installer.lockedPlan((lock.file.platforms[platform.description]?.packages ?? []).map {
                ResolvedPackage(name: $0.name, version: $0.version, architecture: $0.architecture, url: $0.url, size: $0.size, sha256: $0.sha256)
            })
        } ?? installer.plan()
        let names = resolved.packages.map(\.name)
        let shown = names.count <= 6 ? names.joined(separator: " ") : names.prefix(6).joined(separator: " ") + " …"
        var layer = PlannedLayer(origin: .osPackages(resolved.packages), destination: "/", content: .packages(installer, resolved),
                                 compression: request.compression, description: "os packages (\(names.count))",
                                 createdBy: "gantry: \(names.count) os package\(names.count == 1 ? "" : "s") for \(architecture): \(shown)")
        if plan.remote != nil {
            layer.remoteKey = PlannedLayer.RemoteKey(key: RemoteLayerKey.osPackages(resolved.layerKey, settings: plan.settings(request.compression)),
                                                     asked: false)
        }
        return layer
    }

    /// Writes the layer from the chosen .debs (downloading those the store lacks).
    static func writePackagesLayer(_ installer: PackageInstaller, _ plan: PackageInstaller.Plan, settings: LayerSettings,
                                   store: ContentStore, into output: ByteSink) throws -> LayerBlob {
        let scratch = store.scratchPath(for: .packages)
        ExitCleanup.remove(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (tree, notes) = try installer.writeTree(plan, scratch: scratch)
        for note in notes { Warnings.emit("packages: " + note) }
        if !tree.overwritten.isEmpty {
            Warnings.emit("packages: \(tree.overwritten.count) file\(tree.overwritten.count == 1 ? " is" : "s are") shipped by two packages; the later one's is kept: \(tree.overwritten.prefix(3).joined(separator: ", "))")
        }
        return try LayerBuilder.stream(settings: settings, into: output) { tar in
            for entry in tree.sortedEntries() { try LayerBuilder.write(entry, to: tar, mtime: settings.mtime) }
        }
    }
}
