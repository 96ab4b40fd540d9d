import FoundationEssentials
import OCI
import ContentStore
import Layering
import ImageContents
import Registry
import Images
import Diagnostics
import DebianPackages
import ByteStreams

/// What a build's base holds that the build asks about: its C library (for the
/// Python wheels' platform tags) and its OS packages (for the SBOM). Each base
/// layer is read once (`CLibraryProbe.scan`) and what it holds is recorded in the
/// store's `facts` cache by the layer's digest, so an unchanged base costs nothing
/// after the first build. A base layer left in its registry (a registry base, see
/// `LayerBackfill`) is fetched for this, once.
struct BaseFacts {
    let store: ContentStore
    let registry: RegistrySettings

    private struct LayerRecord: Codable {
        var layer: Digest
        var library: CLibrary?
        var packages: [OSPackage]?
        var machine: UInt16?
        /// Records of an older scan (without `machine`) are read again.
        var scan: Int?
        static let currentScan = 2
    }

    /// A base without a config (a root filesystem) says nothing of its platform:
    /// its C library's ELF machine must be the one `platform` runs, else the image
    /// would name one architecture and hold another's binaries.
    func checkMachine(of base: BaseImage, for platform: Platform, source: String) throws {
        guard let expected = ELFMachine.expected(forArchitecture: platform.architecture) else { return }
        for layer in base.layers.reversed() {
            guard let machine = try facts(of: layer.descriptor, in: base).machine else { continue }
            guard machine == expected else {
                throw Failure(.missingInput, "\(source) holds \(ELFMachine.name(machine)) binaries (its C library), not \(platform); choose a base for \(platform) or build for \(ELFMachine.architecture(of: machine).map { "linux/" + $0 } ?? "its platform")")
            }
            return
        }
    }

    /// The C library of the topmost layer that has one.
    func cLibrary(in base: BaseImage) throws -> CLibrary? {
        for layer in base.layers.reversed() {
            if let library = try facts(of: layer.descriptor, in: base).library { return library }
        }
        return nil
    }

    /// The OS packages of the topmost layer that has a package database (a later
    /// layer's database replaces the earlier one's file); empty when none has one.
    func osPackages(in base: BaseImage) throws -> [OSPackage] {
        for layer in base.layers.reversed() {
            if let packages = try facts(of: layer.descriptor, in: base).packages { return packages }
        }
        return []
    }

    /// Reads every base layer this store holds (each once per store: the record is
    /// kept) so that a layer with an unsafe entry — an absolute or climbing name, a
    /// whiteout of `.` or `..` — stops the build before it is shipped onward, naming
    /// the layer and the entry (`TarReader` refuses them). Layers left in their
    /// registry are not read here: a push mounts them registry-side, and an output
    /// that needs their bytes fetches them (`LayerBackfill`) and asks again.
    func checkEntryNames(of base: BaseImage) throws {
        for layer in base.layers where store.contains(layer.descriptor.digest) {
            _ = try facts(of: layer.descriptor, in: base)
        }
    }

    private func facts(of descriptor: Descriptor, in base: BaseImage) throws -> LayerRecord {
        let key = descriptor.digest.encoded
        if let record = store.cacheRecord(LayerRecord.self, in: .facts, key: key), record.layer == descriptor.digest,
           record.scan == LayerRecord.currentScan {
            return record
        }
        if !store.contains(descriptor.digest) { try fetch(descriptor, of: base) }
        try store.verify(descriptor)
        let findings = try CLibraryProbe.scan(layer: store.blobPath(descriptor.digest), role: "base layer \(descriptor.digest.short)")
        let record = LayerRecord(layer: descriptor.digest, library: findings.library, packages: findings.packages,
                                 machine: findings.machine, scan: LayerRecord.currentScan)
        store.saveCacheRecord(record, in: .facts, key: key)
        return record
    }

    /// What the base says about installing packages on it (dpkg database, apt
    /// sources and keyrings, symlinks), read from all its layers once and kept
    /// in the facts cache under the layers' digests.
    func system(of base: BaseImage) throws -> BaseSystem {
        let key = "apt-" + SHA256Hasher.hash(Array(base.layers.map(\.descriptor.digest.description).joined(separator: "\n").utf8)).hex
        if let known = store.cacheRecord(BaseSystem.self, in: .facts, key: key) { return known }
        var layers: [(path: String, role: String)] = []
        for layer in base.layers {
            if !store.contains(layer.descriptor.digest) { try fetch(layer.descriptor, of: base) }
            try store.verify(layer.descriptor)
            layers.append((store.blobPath(layer.descriptor.digest), "base layer \(layer.descriptor.digest.short)"))
        }
        let system = try BaseSystem.read(layers: layers)
        store.saveCacheRecord(system, in: .facts, key: key)
        return system
    }

    /// A registry base's layer, fetched from the base's repository.
    private func fetch(_ layer: Descriptor, of base: BaseImage) throws {
        guard let name = base.name, let reference = try? Reference(parsing: name), let digest = base.digest else {
            throw Failure(.missingInput, "base layer \(layer.digest.short) is not in the store \(store.root); build again")
        }
        try LayerBackfill(store: store, settings: registry, observer: nil).fetch([layer], fromBase: reference, digest: digest)
    }
}
