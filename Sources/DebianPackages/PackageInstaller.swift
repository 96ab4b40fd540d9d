import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import HTTP
import SystemSupport

/// `packages:` of a build, as values: what to install, what never to, and where from.
public struct PackageSelection: Sendable, Equatable {
    public var install: [String]
    public var exclude: [String] = []
    /// Repositories named by the recipe, each with its keyring file; empty: the base's own.
    public var repositories: [Repository] = []

    public struct Repository: Sendable, Equatable {
        public var source: AptSource
        public var keyFile: String

        public init(source: AptSource, keyFile: String) {
            self.source = source
            self.keyFile = keyFile
        }
    }

    public init(install: [String]) { self.install = install }
}

/// Installs OS packages into a layer the way `apt-get install --no-install-recommends`
/// would on the base, without running apt, dpkg or any maintainer script:
/// `plan` fetches and verifies the indexes and resolves (the resolution is kept
/// in the store by what it was made from, so an unchanged build reads no index);
/// `writeTree` downloads each chosen .deb into the store (checked against its
/// index's SHA-256) and merges their files. Layer order: base → OS packages →
/// Python dependencies → models → app.
public struct PackageInstaller: Sendable {
    public let store: ContentStore
    public var fetcher: RepositoryFetcher
    public let selection: PackageSelection
    /// Debian's name of the image's architecture (`amd64`, `arm64`, `armhf`…).
    public let architecture: String
    public let base: BaseSystem

    public init(store: ContentStore, selection: PackageSelection, architecture: String, base: BaseSystem) {
        self.store = store
        self.fetcher = RepositoryFetcher(store: store)
        self.selection = selection
        self.architecture = architecture
        self.base = base
    }

    /// The chosen packages and what they were chosen from.
    public struct Plan: Sendable {
        public var packages: [ResolvedPackage]
        public var suites: [RepositoryFetcher.FetchedSuite]
        /// What the layer's bytes depend on besides the layer settings: the packages
        /// and the base's symlinks (followed when the files are placed).
        public var layerKey: String
    }

    private struct ResolutionRecord: Codable {
        var packages: [ResolvedPackage]
        /// The indexes it was resolved from (kept by `store prune` while the record is).
        var blobs: [String]
    }

    static let formatVersion = "gantry-os-packages-v1"

    /// Debian's architecture names for OCI's.
    public static func debianArchitecture(os: String, architecture: String, variant: String?) -> String? {
        guard os == "linux" else { return nil }
        switch (architecture, variant) {
        case ("amd64", _): return "amd64"
        case ("arm64", _): return "arm64"
        case ("arm", "v7"), ("arm", nil): return "armhf"
        case ("arm", _): return "armel"
        case ("386", _): return "i386"
        case ("ppc64le", _): return "ppc64el"
        case ("s390x", _): return "s390x"
        case ("riscv64", _): return "riscv64"
        case ("mips64le", _): return "mips64el"
        default: return nil
        }
    }

    public func plan() throws -> Plan {
        let sources: [(AptSource, [(name: String, bytes: [UInt8])])]
        if selection.repositories.isEmpty {
            let declared = base.sources.filter { $0.architectures.map { $0.contains(architecture) } ?? true }
            guard !declared.isEmpty else {
                throw Failure(.missingInput, "the base declares no apt repositories (no /etc/apt/sources.list or sources.list.d); list them in packages.repositories with their keys")
            }
            sources = try declared.map { ($0, try base.keys(for: $0)) }
        } else {
            sources = try selection.repositories.map { repository in
                guard let bytes = try? FileReader.readSmallFile(repository.keyFile, limit: 16 << 20) else {
                    throw Failure(.missingInput, "key file \(repository.keyFile) of repository \(repository.source.uri) cannot be read; check packages.repositories")
                }
                return (repository.source, [(repository.keyFile, bytes)])
            }
        }
        let suites = try sources.map { try fetcher.fetch($0.0, architecture: architecture, keys: $0.1) }
        let installed = base.installed
        let installedText = installed.map { "\($0.name) \($0.version) \($0.architecture) \($0.provides)" }.sorted().joined(separator: "\n")
        let keyText = "\(Self.formatVersion)\n\(architecture)\n\(selection.install.joined(separator: " "))\n\(selection.exclude.sorted().joined(separator: " "))\n"
            + suites.map { "\($0.uri) \($0.suite) \($0.release) \($0.indexes.map(\.blob.description).joined(separator: " "))" }.joined(separator: "\n")
            + "\n" + installedText
        let resolutionKey = SHA256Hasher.hash(Array(keyText.utf8)).hex
        var packages: [ResolvedPackage]
        if let record = store.cacheRecord(ResolutionRecord.self, in: .packages, key: resolutionKey) {
            packages = record.packages
            store.touchCacheRecord(in: .packages, key: resolutionKey)
        } else {
            // Decompressed copies of the indexes, read back stanza by stanza while resolving.
            let scratch = store.scratchPath(for: .packages)
            guard mkdir(scratch, 0o700) == 0 else { throw SystemError.failure("create directory", path: scratch) }
            ExitCleanup.remove(scratch)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let index = PackageIndex(architecture: architecture)
            for (number, file) in suites.flatMap({ suite in suite.indexes.map { (suite, $0) } }).enumerated() {
                let (suite, blob) = file
                try store.verify(Descriptor(mediaType: "application/octet-stream", digest: blob.blob, size: try Self.size(of: store.blobPath(blob.blob))))
                try index.load(index: store.blobPath(blob.blob), repository: suite.uri, copyPath: "\(scratch)/\(number)",
                               describedAs: "\(suite.uri) \(suite.suite) \(blob.path)")
            }
            var resolver = PackageResolver(index: index, installed: installed)
            resolver.excluded = Set(selection.exclude)
            packages = try resolver.resolve(selection.install.map(PackageResolver.Request.init(parsing:))).packages.map(ResolvedPackage.init)
            let blobs = suites.flatMap { $0.indexes.map(\.blob.description) }
            store.saveCacheRecord(ResolutionRecord(packages: packages, blobs: blobs), in: .packages, key: resolutionKey)
        }
        return Plan(packages: packages, suites: suites, layerKey: layerKey(for: packages))
    }

    /// The plan a lock file names: exactly these packages, no index read or resolved
    /// (`gantry build --locked`); each .deb is still checked against its SHA-256.
    public func lockedPlan(_ packages: [ResolvedPackage]) -> Plan {
        Plan(packages: packages, suites: [], layerKey: layerKey(for: packages))
    }

    /// What the layer's bytes depend on: the packages and the base's symlinks.
    private func layerKey(for packages: [ResolvedPackage]) -> String {
        let symlinks = base.symlinks.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\n")
        let layerText = "\(Self.formatVersion)\nlayer\n" + packages.map { "\($0.name) \($0.version) \($0.architecture) \($0.sha256)" }.joined(separator: "\n")
            + "\n" + SHA256Hasher.hash(Array(symlinks.utf8)).hex
        return SHA256Hasher.hash(Array(layerText.utf8)).hex
    }

    private static func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.failure("read", path: path) }
        return Int64(info.st_size)
    }

    /// Downloads what the store lacks, checks each .deb against its index's
    /// SHA-256, and merges them into a tree under `scratch` (a directory this makes).
    /// Returns the tree and one line per package whose scripts did something gantry did not.
    public func writeTree(_ plan: Plan, scratch: String) throws -> (tree: PackageTree, notes: [String]) {
        guard mkdir(scratch, 0o700) == 0 else { throw SystemError.failure("create directory", path: scratch) }
        let transport = try fetcher.connect(fetcher.http)
        var tree = PackageTree(baseSymlinks: base.symlinks, scratch: scratch)
        var notes: [String] = []
        var alternatives: [MaintainerScripts.Alternative] = []
        for package in plan.packages {
            guard let digest = try? Digest("sha256:" + package.sha256) else {
                throw Failure(.invalidInput, "package \(package.name)=\(package.version) has no SHA256 in its index; gantry, like apt, installs nothing it cannot check")
            }
            if !store.contains(digest) {
                try fetcher.download(package.url, into: digest, size: package.size, listedBy: "its index", transport: transport)
            } else {
                try store.verify(Descriptor(mediaType: "application/vnd.debian.binary-package", digest: digest, size: package.size))
            }
            let deb = DebArchive(path: store.blobPath(digest), name: package.fileName)
            let control = try tree.add(deb, named: package.name)
            let scripts = MaintainerScripts(control: control)
            alternatives += scripts.alternatives
            if !scripts.notDone.isEmpty {
                notes.append("\(package.name): its maintainer scripts were not run; they would \(scripts.notDone.joined(separator: "; "))")
            }
        }
        try applyAlternatives(alternatives, to: &tree)
        // The .debs stay in the store while this record does.
        store.saveCacheRecord(ResolutionRecordOfDebs(blobs: plan.packages.map { "sha256:" + $0.sha256 }), in: .packages, key: "debs-" + plan.layerKey)
        return (tree, notes)
    }

    private struct ResolutionRecordOfDebs: Codable { var blobs: [String] }

    /// `update-alternatives --install` as symlinks: per name, the highest priority
    /// wins (auto mode); a name the base already manages is left to the base.
    private func applyAlternatives(_ all: [MaintainerScripts.Alternative], to tree: inout PackageTree) throws {
        let byName = Dictionary(grouping: all, by: \.name)
        for name in byName.keys.sorted() {
            let choices = byName[name]!
            guard base.symlinks["etc/alternatives/\(name)"] == nil, let best = choices.max(by: { $0.priority < $1.priority }) else { continue }
            var links = [(best.link, best.name, best.path)]
            links += best.slaves.map { ($0.link, $0.name, $0.path) }
            for (link, alternative, path) in links where tree.has(path) || base.symlinks[PackageTree.trimmed(path)] != nil {
                try tree.addSymlink("etc/alternatives/\(alternative)", target: path, by: "alternatives")
                let relativeLink = PackageTree.trimmed(link)
                if !tree.has(relativeLink) && base.symlinks[relativeLink] == nil {
                    try tree.addSymlink(relativeLink, target: "/etc/alternatives/\(alternative)", by: "alternatives")
                }
            }
            // update-alternatives' own record, so `update-alternatives --display` in the image knows the choice.
            var record = "auto\n\(best.link)\n" + best.slaves.map { "\($0.name)\n\($0.link)\n" }.joined() + "\n"
            for choice in choices {
                record += "\(choice.path)\n\(choice.priority)\n"
                record += best.slaves.map { slave in choice.slaves.first { $0.name == slave.name }?.path ?? "" }.map { $0 + "\n" }.joined()
            }
            try tree.addFile("var/lib/dpkg/alternatives/\(name)", content: record + "\n", by: "alternatives")
        }
    }
}
