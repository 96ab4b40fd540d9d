import YAML
import Images
import Diagnostics

/// Walks the YAML node tree of a recipe, checking every key and type and
/// reporting problems as `file:line: …`.
struct RecipeReader {
    let source: String
    let directory: String

    static let topLevelKeys = ["base", "platform", "platforms", "layers", "entrypoint", "cmd", "env", "workdir", "user",
                               "ports", "volumes", "labels", "stopSignal", "compression", "tag", "model", "models", "python", "packages", "deploy", "cacheRepo", "test"]
    static let modelKeys = ["source", "sha256", "destination", "license", "image", "include", "exclude"]
    static let pythonKeys = ["requirements", "version", "target", "platform"]
    static let packagesKeys = ["install", "exclude", "repositories"]
    static let repositoryKeys = ["url", "suite", "components", "key"]
    static let layerKeys = ["source", "destination", "ignore", "ownership", "mode", "compression", "allowExternalSymlinks"]

    func recipe(from node: YAMLNode) throws -> Recipe {
        var recipe = Recipe()
        for (key, value) in try mapping(node, field: "recipe") {
            let name = try string(key, field: "key")
            switch name {
            case "base":
                recipe.base = try checked(value) {
                    let text = try string(value, field: name)
                    _ = try ImageLocation(parsing: text, role: "base", allowRegistry: true)
                    return text
                }
            case "platform":
                guard recipe.platforms.isEmpty else { throw error(at: key, "use 'platform' for one platform or 'platforms' for several, not both") }
                recipe.platform = try checked(value) { try InputRules.platform(try string(value, field: name)) }
            case "platforms":
                guard recipe.platform == nil else { throw error(at: key, "use 'platform' for one platform or 'platforms' for several, not both") }
                recipe.platforms = try checked(value) { try InputRules.platforms(try sequence(value, field: name).map { try string($0, field: "platform") }) }
            case "layers": recipe.layers = try sequence(value, field: name).enumerated().map { try layer($1, number: $0 + 1) }
            case "entrypoint": recipe.settings.entrypoint = try command(value, field: name)
            case "cmd": recipe.settings.cmd = try command(value, field: name)
            case "env":
                recipe.settings.env = try mapping(value, field: name).map { key, value in
                    EnvironmentVariable(name: try checked(key) { try InputRules.environmentName(try string(key, field: "env name")) },
                                        value: try string(value, field: "env value"))
                }
            case "workdir": recipe.settings.workdir = try checked(value) { try InputRules.workdir(try string(value, field: name)) }
            case "user": recipe.settings.user = try checked(value) { try InputRules.user(try string(value, field: name)) }
            case "ports":
                recipe.settings.ports = try sequence(value, field: name).map { port in
                    try checked(port) { let text = try string(port, field: "port"); _ = try InputRules.port(text); return text }
                }
            case "volumes":
                recipe.settings.volumes = try sequence(value, field: name).map { volume in try checked(volume) { try InputRules.volume(try string(volume, field: "volume")) } }
            case "labels":
                for (labelKey, labelValue) in try mapping(value, field: name) {
                    recipe.settings.labels[try string(labelKey, field: "label name")] = try string(labelValue, field: "label value")
                }
            case "stopSignal": recipe.settings.stopSignal = try string(value, field: name)
            case "compression": recipe.compression = try checked(value) { try InputRules.compression(try string(value, field: name)).description }
            case "tag": recipe.tag = try checked(value) { try InputRules.storeName(try string(value, field: name)) }
            case "cacheRepo": recipe.cacheRepo = try checked(value) { try InputRules.cacheRepository(try string(value, field: name)).description }
            case "model":
                guard recipe.models.isEmpty else { throw error(at: key, "use 'model' for one model or 'models' for several, not both") }
                recipe.models = [try model(value, field: "model")]
            case "models":
                guard recipe.models.isEmpty else { throw error(at: key, "use 'model' for one model or 'models' for several, not both") }
                let entries = try sequence(value, field: name)
                guard !entries.isEmpty else { throw error(at: value, "'models' lists no model; remove it or add entries with 'source'") }
                recipe.models = try entries.enumerated().map { number, entry in
                    let model = try model(entry, field: "models[\(number + 1)]")
                    // Several model images would each be a volume of their own; one image
                    // (model:) is what deploy and gantry test mount today.
                    if entries.count > 1, model.image != nil {
                        throw error(at: entry, "models[\(number + 1)].image: only a single model can be an image of its own; bake these into the app image (remove 'image') or use 'model:' for the one model")
                    }
                    return model
                }
            case "python": recipe.python = try python(value)
            case "packages": recipe.packages = try packages(value)
            case "deploy": recipe.deploy = try flatten(value, prefix: "")
            case "test": recipe.test = try testPlan(from: value)
            default: throw unknownKey(name, at: key, known: Self.topLevelKeys)
            }
        }
        return recipe
    }

    func layer(_ node: YAMLNode, number: Int) throws -> LayerSpec {
        var source: String?
        var destination: String?
        var spec = LayerSpec(source: "", destination: "")
        for (key, value) in try mapping(node, field: "layers[\(number)]") {
            let name = try string(key, field: "key")
            switch name {
            case "source": source = try string(value, field: name)
            case "destination": destination = try checked(value) { try InputRules.destination(try string(value, field: name), what: "layer destination") }
            case "ignore": spec.ignore = try sequence(value, field: name).map { try string($0, field: "ignore pattern") }
            case "ownership": spec.ownership = try checked(value) { try InputRules.ownership(try string(value, field: name)) }
            case "mode": spec.mode = try checked(value) { try InputRules.fileMode(try string(value, field: name)).text }
            case "compression": spec.compression = try checked(value) { try InputRules.compression(try string(value, field: name)).description }
            case "allowExternalSymlinks": spec.allowExternalSymlinks = try bool(value, field: name)
            default: throw unknownKey(name, at: key, known: Self.layerKeys)
            }
        }
        guard let source else { throw error(at: node, "layers[\(number)] needs 'source' (a directory or file)") }
        guard let destination else { throw error(at: node, "layers[\(number)] needs 'destination' (an absolute path in the image)") }
        spec.source = source.hasPrefix("/") ? source : directory + "/" + source
        spec.destination = destination
        return spec
    }

    /// `model:` or one entry of `models:`; `field` names it in errors.
    func model(_ node: YAMLNode, field: String) throws -> RecipeModel {
        var fields: [String: String] = [:]
        var include: [String] = [], exclude: [String] = []
        for (key, value) in try mapping(node, field: field) {
            let name = try string(key, field: "key")
            switch name {
            case "include": include = try sequence(value, field: "\(field).include").map { try string($0, field: "include pattern") }
            case "exclude": exclude = try sequence(value, field: "\(field).exclude").map { try string($0, field: "exclude pattern") }
            case _ where Self.modelKeys.contains(name): fields[name] = try string(value, field: "\(field).\(name)")
            default: throw unknownKey(name, at: key, known: Self.modelKeys)
            }
        }
        guard var source = fields["source"] else { throw error(at: node, "\(field) needs 'source' (https://…, az://…, s3://… or a path)") }
        // A relative local path is relative to the recipe, like layer sources.
        if !source.contains("://") && !source.hasPrefix("/") { source = directory + "/" + source }
        let pin = try fields["sha256"].map { pin in try checked(node) { try InputRules.modelPin(pin).description } }
        let destination = try fields["destination"].map { text in try checked(node) { try InputRules.destination(text, what: "model destination") } }
        var model = RecipeModel(source: source, sha256: pin, destination: destination)
        model.license = fields["license"]
        model.image = try fields["image"].map { text in try checked(node) { try InputRules.modelImage(text) } }
        model.include = include
        model.exclude = exclude
        return model
    }

    func python(_ node: YAMLNode) throws -> RecipePython {
        let fields = try scalarFields(node, section: "python", known: Self.pythonKeys)
        guard let requirements = fields["requirements"] else { throw error(at: node, "python needs 'requirements' (a requirements.txt)") }
        let target = try fields["target"].map { text in try checked(node) { try InputRules.destination(text, what: "python target") } }
        return RecipePython(requirements: requirements.hasPrefix("/") ? requirements : directory + "/" + requirements,
                            version: fields["version"], target: target, platform: fields["platform"])
    }

    /// `packages:` — install (required, names as apt-get takes them), exclude, repositories.
    func packages(_ node: YAMLNode) throws -> RecipePackages {
        var packages = RecipePackages()
        for (key, value) in try mapping(node, field: "packages") {
            let name = try string(key, field: "key")
            switch name {
            case "install", "exclude":
                let names = try sequence(value, field: "packages.\(name)").map { try string($0, field: "packages.\(name) entry") }
                for entry in names where !Self.isPackageName(entry, allowingVersion: name == "install") {
                    throw error(at: value, "packages.\(name): '\(entry)' is not a Debian package name\(name == "install" ? " (name or name=version)" : ""); names are lowercase letters, digits and + - .")
                }
                if name == "install" { packages.install = names } else { packages.exclude = names }
            case "repositories":
                packages.repositories = try sequence(value, field: "packages.repositories").enumerated().map { number, entry in
                    let field = "packages.repositories[\(number + 1)]"
                    var fields: [String: String] = [:]
                    var components: [String] = []
                    for (key, value) in try mapping(entry, field: field) {
                        let name = try string(key, field: "key")
                        switch name {
                        case "components": components = try sequence(value, field: "\(field).components").map { try string($0, field: "component") }
                        case _ where Self.repositoryKeys.contains(name): fields[name] = try string(value, field: "\(field).\(name)")
                        default: throw unknownKey(name, at: key, known: Self.repositoryKeys)
                        }
                    }
                    guard let url = fields["url"], url.hasPrefix("http://") || url.hasPrefix("https://") else {
                        throw error(at: entry, "\(field) needs 'url' (http:// or https://, e.g. http://deb.debian.org/debian)")
                    }
                    guard let suite = fields["suite"] else { throw error(at: entry, "\(field) needs 'suite' (e.g. bookworm)") }
                    // Like apt, gantry trusts a repository only with the key it is signed with.
                    guard let key = fields["key"] else { throw error(at: entry, "\(field) needs 'key': the keyring file its Release is signed with (binary or ASCII-armored)") }
                    return RecipeRepository(url: url, suite: suite, components: components.isEmpty ? ["main"] : components,
                                            key: key.hasPrefix("/") ? key : directory + "/" + key)
                }
            default: throw unknownKey(name, at: key, known: Self.packagesKeys)
            }
        }
        guard !packages.install.isEmpty else { throw error(at: node, "packages needs 'install': the packages to install, e.g. [libgomp1, curl]") }
        return packages
    }

    /// Debian Policy §5.6.1: lowercase letters, digits, `+ - .`, two characters or more, starting alphanumeric.
    static func isPackageName(_ text: String, allowingVersion: Bool) -> Bool {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 1 || (allowingVersion && parts.count == 2 && !parts[1].isEmpty && !parts[1].contains(" ")) else { return false }
        let name = parts[0]
        guard name.count >= 2, let first = name.first, first.isASCII, first.isLowercase || first.isNumber else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "+-.".contains($0)) }
    }

    /// A section of single values whose keys must be among `known`.
    func scalarFields(_ node: YAMLNode, section: String, known: [String]) throws -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in try mapping(node, field: section) {
            let name = try string(key, field: "key")
            guard known.contains(name) else { throw unknownKey(name, at: key, known: known) }
            fields[name] = try string(value, field: "\(section).\(name)")
        }
        return fields
    }

    /// A nested mapping as dotted keys; the deploy module checks names and values.
    func flatten(_ node: YAMLNode, prefix: String) throws -> [RecipeSetting] {
        var settings: [RecipeSetting] = []
        for (key, value) in try mapping(node, field: prefix.isEmpty ? "deploy" : "deploy.\(prefix.dropLast())") {
            let name = prefix + (try string(key, field: "key"))
            if case .mapping = value {
                settings += try flatten(value, prefix: name + ".")
            } else {
                settings.append(RecipeSetting(key: name, value: try string(value, field: "deploy.\(name)"), location: line(key)))
            }
        }
        return settings
    }

    // MARK: typed accessors

    func mapping(_ node: YAMLNode, field: String) throws -> [(YAMLNode, YAMLNode)] {
        guard case .mapping(let pairs, _) = node else { throw typeError(node, field: field, expected: "a mapping (key: value lines)") }
        // YAML forbids duplicate keys, but the parser keeps both: the second would silently win.
        var seen: [String: YAMLNode] = [:]
        for pair in pairs {
            guard case .scalar(let scalar) = pair.key else { continue }
            if let first = seen[scalar.text] {
                throw error(at: pair.key, "duplicate key '\(scalar.text)' in '\(field)' (first at \(line(first))); keep one")
            }
            seen[scalar.text] = pair.key
        }
        return pairs.map { ($0.key, $0.value) }
    }

    func sequence(_ node: YAMLNode, field: String) throws -> [YAMLNode] {
        guard case .sequence(let items, _) = node else { throw typeError(node, field: field, expected: "a list") }
        return items
    }

    func string(_ node: YAMLNode, field: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw typeError(node, field: field, expected: "a single value") }
        // `key:` with nothing after it, `~` or `null` is YAML null, not the text "null".
        if scalar.isNull {
            throw error(at: node, "'\(field)' has no value (YAML null); write one, quoted if it is the word null")
        }
        return scalar.text
    }

    func bool(_ node: YAMLNode, field: String) throws -> Bool {
        switch try string(node, field: field) {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw typeError(node, field: field, expected: "true or false")
        }
    }

    /// A list of words (exec form), or one string run by /bin/sh -c (shell form, as in a Dockerfile).
    func command(_ node: YAMLNode, field: String) throws -> [String] {
        if case .scalar = node { return ["/bin/sh", "-c", try string(node, field: field)] }
        return try sequence(node, field: field).map { try string($0, field: field) }
    }

    // MARK: errors

    func line(_ node: YAMLNode) -> String {
        "\(source):\(node.mark.line)"
    }

    /// Runs a value check, placing its error at the value's line; every such error is a usage error (64).
    func checked<T>(_ node: YAMLNode, _ check: () throws -> T) throws -> T {
        do {
            return try check()
        } catch let failure as Failure where !failure.message.hasPrefix(source) {
            throw error(at: node, failure.message)
        }
    }

    func error(at node: YAMLNode, _ message: String) -> Failure {
        Failure(.usage, "\(line(node)): \(message)")
    }

    func typeError(_ node: YAMLNode, field: String, expected: String) -> Failure {
        error(at: node, "'\(field)' must be \(expected)")
    }

    func unknownKey(_ name: String, at node: YAMLNode, known: [String]) -> Failure {
        error(at: node, "unknown key '\(name)'; known keys: \(known.joined(separator: ", "))")
    }
}
