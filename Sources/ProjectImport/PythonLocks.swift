import FoundationEssentials
import Diagnostics

/// Python dependency files a project may already have, read into the lines of a
/// requirements file pip takes with `--require-hashes` when the lock has hashes:
/// a lock's pins are kept, never re-resolved.
enum PythonLocks {
    /// One pinned requirement: `name==version` and its hashes (`sha256:…`).
    struct Pin: Equatable {
        var name: String
        var version: String
        var hashes: [String]

        var line: String {
            (["\(name)==\(version)"] + hashes.map { "--hash=\($0)" }).joined(separator: " \\\n    ")
        }
    }

    /// Pipfile.lock (JSON): the `default` section's packages with `version: "==x"` and `hashes`.
    static func pipfileLock(_ bytes: [UInt8], path: String) throws -> [Pin] {
        struct Lock: Decodable {
            struct Entry: Decodable { var version: String?; var hashes: [String]?; var markers: String? }
            var `default`: [String: Entry]
        }
        let lock: Lock
        do { lock = try JSONDecoder().decode(Lock.self, from: Data(bytes)) } catch {
            throw Failure(.invalidInput, "\(path) is not a Pipfile.lock gantry can read (\(error)); run 'pipenv lock' again")
        }
        return lock.default.keys.sorted().compactMap { name in
            guard let version = lock.default[name]?.version, version.hasPrefix("==") else { return nil }
            return Pin(name: name, version: String(version.dropFirst(2)), hashes: lock.default[name]?.hashes ?? [])
        }
    }

    /// poetry.lock and uv.lock (TOML): each `[[package]]`'s name and version, and
    /// the `hash = "sha256:…"` entries of its files (poetry) or wheels and sdist (uv).
    /// The project itself (uv's `source = { editable = "." }` / `virtual`) is left out.
    static func tomlLock(_ text: String) -> [Pin] {
        var pins: [Pin] = []
        var current: Pin?
        var isProject = false
        func flush() {
            if let pin = current, !isProject { pins.append(pin) }
            current = nil
            isProject = false
        }
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingLeadingSpace
            if line.hasPrefix("[[package]]") { flush(); current = Pin(name: "", version: "", hashes: []); continue }
            if line.hasPrefix("[") && !line.hasPrefix("[[package]]") && !line.hasPrefix("[package") { flush(); continue }
            guard current != nil else { continue }
            if line.hasPrefix("name = "), current?.name.isEmpty == true { current?.name = Self.quoted(line) ?? "" }
            else if line.hasPrefix("version = "), current?.version.isEmpty == true { current?.version = Self.quoted(line) ?? "" }
            else if line.hasPrefix("source = "), line.contains("editable") || line.contains("virtual") { isProject = true }
            var rest = Substring(line)
            while let range = rest.firstRange(of: "hash = \"") {
                let after = rest[range.upperBound...]
                guard let close = after.firstIndex(of: "\"") else { break }
                current?.hashes.append(String(after[..<close]))
                rest = after[after.index(after: close)...]
            }
        }
        flush()
        return pins.filter { !$0.name.isEmpty && !$0.version.isEmpty }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// pyproject.toml's PEP 621 `[project] dependencies = [ … ]`.
    static func pyprojectDependencies(_ text: String) -> [String] {
        var inProject = false
        var collecting = false
        var found: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingLeadingSpace
            if line.hasPrefix("[") && !collecting { inProject = line.hasPrefix("[project]"); continue }
            if inProject && !collecting && line.hasPrefix("dependencies") && line.contains("=") && line.contains("[") {
                collecting = true
            }
            guard collecting else { continue }
            found += strings(in: line)
            if line.contains("]") && !line.hasSuffix(",") { collecting = false }
        }
        return found
    }

    /// The double- or single-quoted strings of a line (a TOML array's items).
    static func strings(in line: String) -> [String] {
        var found: [String] = []
        var rest = Substring(line)
        while let open = rest.firstIndex(where: { $0 == "\"" || $0 == "'" }) {
            let quote = rest[open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: quote) else { break }
            found.append(String(after[..<close]))
            rest = after[after.index(after: close)...]
        }
        return found
    }

    private static func quoted(_ line: String) -> String? { strings(in: line).first }
}
