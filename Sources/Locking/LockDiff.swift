/// What moved between two locks, one line per change, in the order a reviewer
/// reads them: the recipe, then per platform the base, the OS packages and the
/// Python distributions, then the models. `gantry lock --check` prints these for a
/// stale lock; `gantry lock --update` prints them for what it changed.
public enum LockDiff {
    public static func changes(from old: LockFile, to new: LockFile) -> [String] {
        var lines: [String] = []
        if old.recipe != new.recipe { lines.append("recipe: \(short(old.recipe)) → \(short(new.recipe)) (gantry.yaml changed what the image is made of)") }
        for name in Set(old.platforms.keys).union(new.platforms.keys).sorted() {
            guard let before = old.platforms[name] else { lines.append("+ platform \(name)"); continue }
            guard let after = new.platforms[name] else { lines.append("- platform \(name)"); continue }
            if before.base != after.base {
                lines.append("base \(name): \(before.base.map { "\($0.reference) \(short($0.digest))" } ?? "none") → \(after.base.map { "\($0.reference) \(short($0.digest))" } ?? "none")")
            }
            lines += compare(before.packages, after.packages, key: \.name, what: "package \(name)") { "\($0.version) \(shortHex($0.sha256))" }
            lines += compare(before.python, after.python, key: { $0.name.lowercased() }, what: "python \(name)") { "\($0.version) \(shortHex($0.sha256))" }
        }
        let oldModels = Dictionary(old.models.map { ($0.destination, $0) }, uniquingKeysWith: { first, _ in first })
        let newModels = Dictionary(new.models.map { ($0.destination, $0) }, uniquingKeysWith: { first, _ in first })
        for destination in Set(oldModels.keys).union(newModels.keys).sorted() {
            guard let before = oldModels[destination] else { lines.append("+ model \(destination) from \(newModels[destination]?.source ?? "")"); continue }
            guard let after = newModels[destination] else { lines.append("- model \(destination)"); continue }
            if before.source != after.source { lines.append("model \(destination): source \(before.source) → \(after.source)") }
            lines += compare(before.files, after.files, key: \.path, what: "model \(destination)") { "\(shortHex($0.sha256)) (\($0.size) bytes)" }
        }
        return lines
    }

    /// Entries matched by `key`: added, removed, and changed ones (`name old → new`).
    static func compare<Entry: Equatable>(_ old: [Entry], _ new: [Entry], key: (Entry) -> String, what: String,
                                          describe: (Entry) -> String) -> [String] {
        let before = Dictionary(old.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        for name in Set(before.keys).union(after.keys).sorted() {
            switch (before[name], after[name]) {
            case (nil, let added?): lines.append("+ \(what): \(name.isEmpty ? "" : name + " ")\(describe(added))")
            case (let removed?, nil): lines.append("- \(what): \(name.isEmpty ? "" : name + " ")\(describe(removed))")
            case (let was?, let now?) where was != now: lines.append("\(what): \(name.isEmpty ? "" : name + " ")\(describe(was)) → \(describe(now))")
            default: break
            }
        }
        return lines
    }

    public static func short(_ digest: String) -> String { digest.hasPrefix("sha256:") ? "sha256:" + shortHex(String(digest.dropFirst(7))) : digest }
    static func shortHex(_ hex: String) -> String { String(hex.prefix(12)) }
}
