/// What a package's maintainer scripts would have done, since gantry runs none of
/// them: the parts that are declarations are carried out (`update-alternatives
/// --install` with literal arguments becomes its symlinks), the rest is named so
/// the user can decide (system users and groups are never guessed).
public struct MaintainerScripts {
    /// One `update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]…`.
    public struct Alternative: Sendable, Equatable {
        public var link: String
        public var name: String
        public var path: String
        public var priority: Int
        public var slaves: [(link: String, name: String, path: String)]

        public static func == (a: Alternative, b: Alternative) -> Bool {
            a.link == b.link && a.name == b.name && a.path == b.path && a.priority == b.priority
                && a.slaves.elementsEqual(b.slaves) { $0 == $1 }
        }
    }

    public var alternatives: [Alternative] = []
    /// What was not done, in a few words each ("creates system users or groups").
    public var notDone: [String] = []

    public init(control: DebArchive.Control) {
        var notes: Set<String> = []
        for script in ["preinst", "postinst"] {
            guard let text = control.files[script] else { continue }
            let joined = text.replacingBackslashNewlines()
            for line in joined.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                if let at = words.firstIndex(of: "update-alternatives"), words.dropFirst(at).contains("--install") {
                    if let alternative = Self.alternative(Array(words[(at + 1)...])) { alternatives.append(alternative) }
                    else { notes.insert("register alternatives gantry cannot read literally") }
                }
                if words.contains(where: { ["adduser", "useradd", "addgroup", "groupadd"].contains($0) }) {
                    notes.insert("create system users or groups (add them to the base, or a layer with /etc/passwd and /etc/group entries)")
                }
                if words.contains(where: { ["chown", "dpkg-statoverride"].contains($0) }) {
                    notes.insert("change owners of files they installed")
                }
                if words.contains(where: { $0.hasPrefix("deb-systemd") || $0 == "invoke-rc.d" || $0 == "update-rc.d" }) {
                    notes.insert("enable a service (not needed in a container)")
                }
            }
        }
        if let triggers = control.files["triggers"] {
            // ldconfig's trigger is every library's: the loader finds libraries in the
            // default paths (where packages put them) without /etc/ld.so.cache.
            let others = triggers.split(separator: "\n").filter { line in
                let text = line.trimmingSpaces
                return !text.isEmpty && !text.hasPrefix("#") && !text.hasSuffix("ldconfig")
            }
            if !others.isEmpty { notes.insert("activate dpkg triggers (\(others.map(\.trimmingSpaces).joined(separator: ", ")))") }
        }
        notDone = notes.sorted()
    }

    private static func alternative(_ words: [String]) -> Alternative? {
        guard let install = words.firstIndex(of: "--install"), words.count >= install + 5,
              let priority = Int(words[install + 4]) else { return nil }
        let core = Array(words[(install + 1)...(install + 3)])
        guard core.allSatisfy(isLiteralPath(allowingName:)) else { return nil }
        var alternative = Alternative(link: core[0], name: core[1], path: core[2], priority: priority, slaves: [])
        var index = install + 5
        while index + 3 < words.count, words[index] == "--slave" {
            let slave = Array(words[(index + 1)...(index + 3)])
            guard slave.allSatisfy(isLiteralPath(allowingName:)) else { return nil }
            alternative.slaves.append((slave[0], slave[1], slave[2]))
            index += 4
        }
        return alternative
    }

    private static func isLiteralPath(allowingName word: String) -> Bool {
        !word.contains("$") && !word.contains("`") && !word.contains("\"") && !word.contains("'") && !word.isEmpty
    }
}

extension String {
    /// Shell line continuations joined, as the shell reads them.
    func replacingBackslashNewlines() -> String {
        var result = ""
        var pendingBackslash = false
        for character in self {
            if pendingBackslash {
                pendingBackslash = false
                if character == "\n" { result.append(" "); continue }
                result.append("\\")
            }
            if character == "\\" { pendingBackslash = true; continue }
            result.append(character)
        }
        return result
    }
}
