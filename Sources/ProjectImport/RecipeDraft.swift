import YAML

/// The recipe `gantry init` writes, as values with the evidence for each, and
/// its YAML: every decision carries a comment naming where it came from
/// (`# from Dockerfile:7`, `# requirements.txt lists gunicorn`).
public struct RecipeDraft: Sendable {
    public struct Commented<Value: Sendable>: Sendable {
        public var value: Value
        public var why: String
    }

    public struct Layer: Sendable {
        public var source: String
        public var destination: String
        public var ownership: String?
        public var mode: String?
        public var ignore: [String] = []
        public var why: String
    }

    public struct Model: Sendable {
        public var source: String
        public var destination: String
        public var why: String
    }

    public var base: Commented<String>?
    public var platform: Commented<String>?
    public var python: (requirements: Commented<String>, version: Commented<String>?)?
    public var packages: Commented<[String]>?
    public var layers: [Layer] = []
    public var models: [Model] = []
    public var entrypoint: Commented<[String]>?
    public var cmd: Commented<[String]>?
    public var env: [Commented<(String, String)>] = []
    public var workdir: Commented<String>?
    public var user: Commented<String>?
    public var ports: Commented<[String]>?
    public var volumes: Commented<[String]>?
    public var labels: [Commented<(String, String)>] = []
    public var stopSignal: Commented<String>?
    public var testPort: Int?
    public var readyPath: Commented<String>?
    public var execCheck: Commented<[String]>?
    /// Ready when the port accepts connections (an app with no GET route).
    public var readyTCP: Commented<Bool>?
    /// Comment lines at the top (what was read) and at the end (what was not translated).
    public var header: [String] = []
    public var footer: [String] = []

    public init() {}

    /// The recipe as YAML text.
    public var yaml: String {
        var out = header.map { "# " + $0 + "\n" }.joined()
        func line(_ text: String, _ why: String) { out += why.isEmpty ? text + "\n" : text + "  # " + why + "\n" }
        if let base { line("base: \(Self.scalar(base.value))", base.why) }
        if let platform { line("platform: \(Self.scalar(platform.value))", platform.why) }
        if let packages {
            out += "packages:\n"
            line("  install: \(Self.list(packages.value))", packages.why)
        }
        if let python {
            out += "python:\n"
            line("  requirements: \(Self.scalar(python.requirements.value))", python.requirements.why)
            if let version = python.version { line("  version: \(Self.scalar(version.value))", version.why) }
        }
        if models.count == 1 {
            out += "model:\n"
            line("  source: \(Self.scalar(models[0].source))", models[0].why)
            out += "  destination: \(Self.scalar(models[0].destination))\n"
        } else if models.count > 1 {
            out += "models:\n"
            for model in models {
                line("  - source: \(Self.scalar(model.source))", model.why)
                out += "    destination: \(Self.scalar(model.destination))\n"
            }
        }
        if !layers.isEmpty {
            out += "layers:\n"
            for layer in layers {
                line("  - source: \(Self.scalar(layer.source))", layer.why)
                out += "    destination: \(Self.scalar(layer.destination))\n"
                if let ownership = layer.ownership { out += "    ownership: \(Self.scalar(ownership, forceQuotes: true))\n" }
                if let mode = layer.mode { out += "    mode: \(Self.scalar(mode, forceQuotes: true))\n" }
                if !layer.ignore.isEmpty { out += "    ignore: \(Self.list(layer.ignore))\n" }
            }
        }
        if let workdir { line("workdir: \(Self.scalar(workdir.value))", workdir.why) }
        if !env.isEmpty {
            out += "env:\n"
            for variable in env { line("  \(Self.scalar(variable.value.0)): \(Self.scalar(variable.value.1, forceQuotes: true))", variable.why) }
        }
        if let user { line("user: \(Self.scalar(user.value, forceQuotes: true))", user.why) }
        if let ports { line("ports: \(Self.list(ports.value, forceQuotes: true))", ports.why) }
        if let volumes { line("volumes: \(Self.list(volumes.value))", volumes.why) }
        if !labels.isEmpty {
            out += "labels:\n"
            for label in labels { line("  \(Self.scalar(label.value.0)): \(Self.scalar(label.value.1, forceQuotes: true))", label.why) }
        }
        if let stopSignal { line("stopSignal: \(Self.scalar(stopSignal.value))", stopSignal.why) }
        if let entrypoint { line("entrypoint: \(Self.command(entrypoint.value))", entrypoint.why) }
        if let cmd { line("cmd: \(Self.command(cmd.value))", cmd.why) }
        if testPort != nil || readyPath != nil || execCheck != nil || readyTCP != nil {
            out += "test:\n"
            if let testPort { out += "  port: \(testPort)\n" }
            if let readyTCP { line("  ready: {tcp: true, timeout: 60}", readyTCP.why) }
            if let readyPath {
                line("  ready: {path: \(Self.scalar(readyPath.value)), timeout: 60}", readyPath.why)
                out += "  checks:\n"
                out += "    - name: \(Self.scalar("GET \(readyPath.value) answers"))\n"
                out += "      http: GET \(readyPath.value)\n"
            }
            if let execCheck {
                if readyPath == nil { out += "  checks:\n" }
                line("    - name: the health check passes", execCheck.why)
                out += "      exec: \(Self.list(execCheck.value))\n"
            }
        }
        out += footer.map { $0.isEmpty ? "#\n" : "# " + $0 + "\n" }.joined()
        return out
    }

    /// A YAML scalar: plain when that reads back as the same string, else double-quoted (JSON escapes).
    static func scalar(_ text: String, forceQuotes: Bool = false) -> String {
        // `:` is plain unless a space or the end follows it (`python:3.12-slim` stays a plain scalar).
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+@:".contains($0) }
            && !text.hasSuffix(":") && !text.contains(": ")
            && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(text.lowercased())
            && !(text.first?.isNumber ?? false) && !text.hasPrefix("-") && !text.hasPrefix("@")
        if plain && !forceQuotes { return text }
        return YAMLQuoting.doubleQuoted(text)
    }

    /// A command: `/bin/sh -c TEXT` as the recipe's string (shell) form, else a list.
    static func command(_ words: [String]) -> String {
        words.count == 3 && words[0] == "/bin/sh" && words[1] == "-c" ? scalar(words[2], forceQuotes: true) : list(words)
    }

    static func list(_ items: [String], forceQuotes: Bool = false) -> String {
        "[" + items.map { scalar($0, forceQuotes: forceQuotes) }.joined(separator: ", ") + "]"
    }
}


