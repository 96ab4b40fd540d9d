import Diagnostics

/// Chooses the packages to install as `apt-get install --no-install-recommends`
/// does on the base: each requested package's candidate (its highest version),
/// then, depth first in the order the fields list them, every Pre-Depends and
/// Depends group that the base or the packages chosen so far do not already
/// satisfy — by the first alternative whose candidate meets the version relation,
/// a virtual name by its best provider. Packages the base has at a satisfying
/// version are not installed again; an older one is upgraded. Conflicts and
/// Breaks against the base and among the chosen packages stop the resolution.
public struct PackageResolver {
    public let index: PackageIndex
    /// The base's installed packages (its dpkg status), by name.
    public let installed: [String: DebianPackage]
    /// Names taken as present: never installed, and their dependents' need met.
    public var excluded: Set<String> = []

    public init(index: PackageIndex, installed: [DebianPackage]) {
        self.index = index
        self.installed = Dictionary(installed.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for package in self.installed.values { noteProvides(package) }
    }

    /// A request: `name` or `name=version`.
    public struct Request: Sendable, Hashable {
        public var name: String
        public var version: String?

        public init(parsing text: String) {
            let parts = text.split(separator: "=", maxSplits: 1)
            name = String(parts[0])
            version = parts.count > 1 ? String(parts[1]) : nil
        }
    }

    /// The chosen packages, each with the package that first needed it (nil: requested).
    public struct Resolution: Sendable {
        public var packages: [DebianPackage]
        public var neededBy: [String: String]
    }

    private var chosen: [String: DebianPackage] = [:]
    private var order: [DebianPackage] = []
    private var neededBy: [String: String] = [:]
    /// Virtual names the base and the chosen packages provide, with the version provided.
    private var provided: [String: [(package: DebianPackage, version: DebianVersion?)]] = [:]

    private mutating func noteProvides(_ package: DebianPackage) {
        guard !package.provides.isEmpty, let relations = try? PackageRelation.parseField(package.provides, architecture: index.architecture) else { return }
        for item in relations.joined() { provided[item.name, default: []].append((package, item.constraint?.version)) }
    }
    private var architecture: String { index.architecture }

    public mutating func resolve(_ requests: [Request]) throws -> Resolution {
        for request in requests {
            if excluded.contains(request.name) {
                throw Failure(.usage, "package \(request.name) is both in packages.install and packages.exclude; keep it in one")
            }
            let versions = try index.versions(of: request.name)
            guard !versions.isEmpty else {
                let providers = try index.providers(of: request.name)
                if !providers.isEmpty {
                    let names = Set(providers.map(\.package.name)).sorted()
                    if names.count == 1, let only = try index.candidate(names[0]) {
                        try install(only, neededBy: nil)
                        continue
                    }
                    throw Failure(.usage, "package \(request.name) is a virtual package provided by \(names.prefix(8).joined(separator: ", ")); name one of them in packages.install")
                }
                throw Failure(.missingInput, "package \(request.name) is in no repository gantry reads for \(architecture); check its name (apt-cache search) and packages.repositories")
            }
            var package: DebianPackage
            if let wanted = request.version {
                guard let exact = versions.first(where: { $0.version.description == wanted }) else {
                    let offered = Set(versions.map(\.version.description)).sorted().joined(separator: ", ")
                    throw Failure(.missingInput, "package \(request.name)=\(wanted) is not offered; the repositories have \(offered)")
                }
                package = exact
            } else {
                guard let candidate = try index.candidate(request.name) else { continue }
                package = candidate
                // Already in the base at the candidate's version: nothing to do, as apt says "already the newest".
                if let have = installed[request.name], have.version >= package.version { continue }
            }
            try install(package, neededBy: nil)
        }
        try checkConflicts()
        return Resolution(packages: order.sorted { $0.name < $1.name }, neededBy: neededBy)
    }

    private mutating func install(_ package: DebianPackage, neededBy parent: String?) throws {
        if let already = chosen[package.name] {
            guard already.version == package.version else {
                throw Failure(.invalidInput, "package \(package.name) is needed at \(package.version) and at \(already.version) (\(parent ?? "requested")); pin one version in packages.install")
            }
            return
        }
        chosen[package.name] = package
        order.append(package)
        noteProvides(package)
        neededBy[package.name] = parent
        let groups: [[PackageRelation]]
        do {
            groups = try PackageRelation.parseField(package.preDepends, architecture: architecture)
                + PackageRelation.parseField(package.depends, architecture: architecture)
        } catch {
            throw Failure(.invalidInput, "package \(package.label) has a dependency field gantry cannot read: \(error)")
        }
        for group in groups where !group.contains(where: isSatisfied) {
            guard let choice = try choose(group) else {
                if group.contains(where: { excluded.contains($0.name) }) { continue }
                let wanted = group.map(\.description).joined(separator: " | ")
                throw Failure(.missingInput, "package \(package.label) depends on \(wanted), which no repository offers for \(architecture)\(chainText(package.name)); add the repository that has it, or exclude \(package.name)")
            }
            try install(choice, neededBy: package.name)
        }
    }

    /// " (needed by a ← b)" for messages: why a package is being installed.
    private func chainText(_ name: String) -> String {
        var chain: [String] = []
        var current = neededBy[name]
        while let parent = current, chain.count < 6 {
            chain.append(parent)
            current = neededBy[parent]
        }
        return chain.isEmpty ? "" : " (needed by \(chain.joined(separator: " ← ")))"
    }

    /// The package that satisfies the first alternative that can be satisfied.
    private func choose(_ group: [PackageRelation]) throws -> DebianPackage? {
        for relation in group {
            if excluded.contains(relation.name) { return nil }
            if let candidate = try index.candidate(relation.name), matches(candidate, relation), relation.accepts(candidate.version) {
                return candidate
            }
            let providers = try index.providers(of: relation.name).filter { entry in
                // Only a provider's candidate version counts, as in apt.
                guard let candidate = try index.candidate(entry.package.name), candidate == entry.package,
                      matches(entry.package, relation) else { return false }
                if relation.constraint == nil { return true }
                return entry.version.map(relation.accepts) ?? false
            }.map(\.package)
            if let best = providers.min(by: providerOrder) { return best }
        }
        return nil
    }

    /// apt's preference among providers of a virtual name: one already chosen or
    /// installed, then the higher Priority, then the name.
    private func providerOrder(_ a: DebianPackage, _ b: DebianPackage) -> Bool {
        let haveA = chosen[a.name] != nil || installed[a.name] != nil, haveB = chosen[b.name] != nil || installed[b.name] != nil
        if haveA != haveB { return haveA }
        let rank = { (p: DebianPackage) in ["required": 0, "important": 1, "standard": 2, "optional": 3, "extra": 4][p.priority ?? "optional"] ?? 3 }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        return a.name < b.name
    }

    /// Whether a package's architecture can meet a relation's (`:any`, `:native`, none).
    private func matches(_ package: DebianPackage, _ relation: PackageRelation) -> Bool {
        let native = package.architecture == architecture || package.architecture == "all"
        switch relation.architecture {
        case nil: return native || package.multiArch == "foreign"
        case "any": return native || package.multiArch == "allowed" || package.multiArch == "foreign"
        case "native": return native
        case let other?: return package.architecture == other
        }
    }

    /// What the image will have under a name: the chosen package, else the base's.
    private func present(_ name: String) -> DebianPackage? { chosen[name] ?? installed[name] }

    private func isSatisfied(_ relation: PackageRelation) -> Bool {
        if excluded.contains(relation.name) { return true }
        if let package = present(relation.name), matches(package, relation), relation.accepts(package.version) { return true }
        // A virtual name provided by a chosen or installed package (not one a chosen version replaced).
        for entry in provided[relation.name] ?? [] where present(entry.package.name) == entry.package && matches(entry.package, relation) {
            if relation.constraint == nil || entry.version.map(relation.accepts) == true { return true }
        }
        return false
    }

    /// Conflicts and Breaks, both ways, among what the image will hold.
    private func checkConflicts() throws {
        var everyone = installed
        for (name, package) in chosen { everyone[name] = package }
        for package in everyone.values {
            let isNew = chosen[package.name] == package
            let relations = (try? PackageRelation.parseField(package.conflicts + (package.breaks.isEmpty ? "" : ", " + package.breaks),
                                                             architecture: architecture)) ?? []
            for relation in relations.joined() where relation.name != package.name {
                guard let other = everyone[relation.name], relation.accepts(other.version) else { continue }
                // Base against base was already so before gantry: only new packages matter.
                guard isNew || chosen[other.name] == other else { continue }
                throw Failure(.invalidInput, "package \(package.label) conflicts with \(other.label) (\(relation)), \(chosen[other.name] == other ? "also chosen" : "which the base has"); pin other versions, or exclude one")
            }
        }
    }
}
