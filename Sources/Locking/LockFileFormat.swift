import FoundationEssentials
import OCI
import Diagnostics

/// gantry.lock's text: JSON with sorted keys, written so that a change shows as the
/// lines that changed — one line per base, Python distribution, OS package and model
/// file — and read back strictly: a newer format, a malformed digest or a missing
/// field is refused with the entry it is in.
extension LockFile {
    /// The lock as text; the same lock always gives the same bytes.
    public func text() throws -> String {
        func line(_ value: JSONValue) throws -> String { String(decoding: try CanonicalJSON.encode(value), as: UTF8.self) }
        func list(_ items: [JSONValue], indent: String) throws -> String {
            guard !items.isEmpty else { return "[]" }
            return "[\n" + (try items.map { indent + "  " + (try line($0)) }).joined(separator: ",\n") + "\n" + indent + "]"
        }
        var out = "{\n"
        out += "  \"generator\": \(try line(.string(generator))),\n"
        out += "  \"lockVersion\": \(Self.formatVersion),\n"
        out += "  \"models\": "
        if models.isEmpty {
            out += "[],\n"
        } else {
            out += "[\n" + (try models.map { model in
                "    {\"destination\": \(try line(.string(model.destination))), \"files\": "
                    + (try list(model.files.map(\.json), indent: "    ")) + ", \"source\": \(try line(.string(model.source)))}"
            }).joined(separator: ",\n") + "\n  ],\n"
        }
        out += "  \"platforms\": {\n"
        out += try platforms.keys.sorted().map { name in
            let platform = platforms[name] ?? Platform()
            var fields: [String] = []
            if let base = platform.base { fields.append("      \"base\": " + (try line(base.json))) }
            fields.append("      \"packages\": " + (try list(platform.packages.map(\.json), indent: "      ")))
            fields.append("      \"python\": " + (try list(platform.python.map(\.json), indent: "      ")))
            return "    \(try line(.string(name))): {\n" + fields.joined(separator: ",\n") + "\n    }"
        }.joined(separator: ",\n")
        out += "\n  },\n"
        out += "  \"recipe\": \(try line(.string(recipe)))\n"
        out += "}\n"
        return out
    }

    /// Reads a lock, naming `path` and the entry in every message.
    public init(text: String, path: String) throws {
        func bad(_ what: String) -> Failure {
            Failure(.invalidInput, "\(path): \(what); run 'gantry lock' to write it again (and review the difference)")
        }
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), case .object(let top) = root else {
            throw bad("not a gantry lock (not a JSON object)")
        }
        guard case .integer(let version)? = top["lockVersion"] else { throw bad("no lockVersion") }
        guard version <= Self.formatVersion else {
            throw Failure(.invalidInput, "\(path) is lock format \(version), newer than this gantry reads (\(Self.formatVersion)); upgrade gantry, or run 'gantry lock' with this one")
        }
        let reader = Reader(fail: bad)
        recipe = try reader.digest(top["recipe"], "recipe")
        generator = (try? reader.string(top["generator"], "generator")) ?? ""
        var platforms: [String: Platform] = [:]
        guard case .object(let entries)? = top["platforms"] else { throw bad("no platforms") }
        for (name, value) in entries {
            guard case .object(let fields) = value else { throw bad("platforms.\(name) is not an object") }
            var platform = Platform()
            if let base = fields["base"] {
                guard case .object(let b) = base else { throw bad("platforms.\(name).base is not an object") }
                platform.base = Base(reference: try reader.string(b["reference"], "platforms.\(name).base.reference"),
                                     digest: try reader.digest(b["digest"], "platforms.\(name).base.digest"))
            }
            platform.python = try reader.entries(fields["python"], "platforms.\(name).python") { entry, at in
                PythonDistribution(name: try reader.string(entry["name"], at + ".name"), version: try reader.string(entry["version"], at + ".version"),
                                   url: try reader.string(entry["url"], at + ".url"), sha256: try reader.hex(entry["sha256"], at + ".sha256"))
            }
            platform.packages = try reader.entries(fields["packages"], "platforms.\(name).packages") { entry, at in
                OSPackage(name: try reader.string(entry["name"], at + ".name"), version: try reader.string(entry["version"], at + ".version"),
                          architecture: try reader.string(entry["architecture"], at + ".architecture"),
                          url: try reader.string(entry["url"], at + ".url"), size: try reader.size(entry["size"], at + ".size"),
                          sha256: try reader.hex(entry["sha256"], at + ".sha256"))
            }
            platforms[name] = platform
        }
        self.platforms = platforms
        models = try reader.entries(top["models"], "models") { entry, at in
            Model(source: try reader.string(entry["source"], at + ".source"), destination: try reader.string(entry["destination"], at + ".destination"),
                  files: try reader.entries(entry["files"], at + ".files") { file, fileAt in
                      ModelFile(path: try reader.string(file["path"], fileAt + ".path"), identity: try reader.string(file["identity"], fileAt + ".identity"),
                                size: try reader.size(file["size"], fileAt + ".size"), sha256: try reader.hex(file["sha256"], fileAt + ".sha256"))
                  })
        }
    }

    /// The checks of each field, with the entry's path (`platforms.linux/amd64.python[3].sha256`) in the message.
    private struct Reader {
        let fail: (String) -> Failure

        func string(_ value: JSONValue?, _ at: String) throws -> String {
            guard case .string(let text)? = value else { throw fail("\(at) is missing or not a string") }
            return text
        }

        func size(_ value: JSONValue?, _ at: String) throws -> Int64 {
            guard case .integer(let size)? = value, size >= 0 else { throw fail("\(at) is missing or not a size in bytes") }
            return size
        }

        func hex(_ value: JSONValue?, _ at: String) throws -> String {
            let text = try string(value, at)
            guard text.count == 64, text.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw fail("\(at) '\(text)' is not a SHA-256 (64 lowercase hex digits)")
            }
            return text
        }

        func digest(_ value: JSONValue?, _ at: String) throws -> String {
            let text = try string(value, at)
            guard text.hasPrefix("sha256:"), (try? hex(.string(String(text.dropFirst(7))), at)) != nil else {
                throw fail("\(at) '\(text)' is not a sha256: digest")
            }
            return text
        }

        func entries<T>(_ value: JSONValue?, _ at: String, _ make: ([String: JSONValue], String) throws -> T) throws -> [T] {
            guard let value else { return [] }
            guard case .array(let items) = value else { throw fail("\(at) is not a list") }
            return try items.enumerated().map { index, item in
                guard case .object(let fields) = item else { throw fail("\(at)[\(index)] is not an object") }
                return try make(fields, "\(at)[\(index)]")
            }
        }
    }
}

extension LockFile.Base {
    var json: JSONValue { .object(["reference": .string(reference), "digest": .string(digest)]) }
}

extension LockFile.PythonDistribution {
    var json: JSONValue { .object(["name": .string(name), "version": .string(version), "url": .string(url), "sha256": .string(sha256)]) }
}

extension LockFile.OSPackage {
    var json: JSONValue {
        .object(["name": .string(name), "version": .string(version), "architecture": .string(architecture), "url": .string(url),
                 "size": .integer(size), "sha256": .string(sha256)])
    }
}

extension LockFile.ModelFile {
    var json: JSONValue { .object(["path": .string(path), "identity": .string(identity), "size": .integer(size), "sha256": .string(sha256)]) }
}
