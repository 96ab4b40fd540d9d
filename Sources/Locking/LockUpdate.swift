/// `gantry lock --update WHAT`: a new lock that takes from a fresh resolution only
/// what was asked for — `base`, `python`, `packages`, `model` (each for every
/// platform), or one name (a Python distribution, an OS package, or a model by its
/// path in the image or its last component) — and keeps every other pin. The
/// recipe digest is always the current recipe's: the lock is written for it.
public enum LockUpdate {
    public static let kinds: Set<String> = ["base", "python", "packages", "model"]

    public static func merge(old: LockFile, new: LockFile, taking selection: [String]) -> LockFile {
        let wanted = Set(selection.map { $0.lowercased() })
        func takes(_ kind: String, _ name: String) -> Bool { wanted.contains(kind) || wanted.contains(name.lowercased()) }
        var merged = old
        merged.recipe = new.recipe
        merged.generator = new.generator
        var platforms: [String: LockFile.Platform] = [:]
        for (name, fresh) in new.platforms {
            // A platform the old lock lacks comes in whole: there is nothing to keep.
            guard var kept = old.platforms[name] else { platforms[name] = fresh; continue }
            if wanted.contains("base") { kept.base = fresh.base }
            kept.python = entries(kept.python, fresh.python, key: { $0.name.lowercased() }) { takes("python", $0.name) }
            kept.packages = entries(kept.packages, fresh.packages, key: \.name) { takes("packages", $0.name) }
            platforms[name] = kept
        }
        merged.platforms = platforms
        merged.models = new.models.map { fresh in
            let name = fresh.destination.split(separator: "/").last.map(String.init) ?? fresh.destination
            guard let kept = old.models.first(where: { $0.destination == fresh.destination }),
                  !takes("model", fresh.destination), !wanted.contains(name.lowercased()) else { return fresh }
            return kept
        }
        return merged
    }

    /// The fresh list where `take` says so, else the kept entry (or nothing, for an entry the fresh list dropped but not taken).
    static func entries<Entry>(_ kept: [Entry], _ fresh: [Entry], key: (Entry) -> String, take: (Entry) -> Bool) -> [Entry] {
        let old = Dictionary(kept.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(fresh.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var result: [String: Entry] = [:]
        for name in Set(old.keys).union(new.keys) {
            switch (old[name], new[name]) {
            case (let was?, let now?): result[name] = take(now) ? now : was
            case (nil, let now?): if take(now) { result[name] = now }
            case (let was?, nil): if !take(was) { result[name] = was }
            default: break
            }
        }
        return result.keys.sorted().compactMap { result[$0] }
    }
}
