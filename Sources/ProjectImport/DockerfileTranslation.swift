import FoundationEssentials

/// What a Dockerfile's final stage means as a gantry recipe, each decision with
/// the line it came from, and what has no translation (with what to do instead).
/// gantry runs nothing at build time: `RUN pip install` becomes `python:`,
/// `RUN apt-get install` becomes `packages:`, any other `RUN` is reported.
public struct DockerfileTranslation: Sendable {
    /// A value and the Dockerfile line it came from.
    public struct Sourced<Value: Sendable>: Sendable {
        public var value: Value
        public var line: Int
    }

    /// A `COPY`/`ADD` of the build context.
    public struct Copy: Sendable, Equatable {
        public var source: String
        public var destination: String
        /// Numeric `uid[:gid]` (`--chown`; names need the base's /etc/passwd, so are reported instead).
        public var ownership: String?
        /// Octal bits (`--chmod`).
        public var mode: String?
        /// `--exclude` patterns.
        public var exclude: [String] = []
        public var line: Int
    }

    public var base: Sourced<String>?
    /// `FROM --platform=linux/amd64` (a fixed one).
    public var platform: Sourced<String>?
    public var entrypoint: Sourced<[String]>?
    public var cmd: Sourced<[String]>?
    public var env: [Sourced<(name: String, value: String)>] = []
    public var workdir: Sourced<String>?
    public var user: Sourced<String>?
    public var ports: [Sourced<String>] = []
    public var volumes: [Sourced<String>] = []
    public var labels: [Sourced<(key: String, value: String)>] = []
    public var stopSignal: Sourced<String>?
    public var copies: [Copy] = []
    /// `pip install -r FILE` (the first one).
    public var requirements: Sourced<String>?
    /// `pip install NAME…` without a file: to write into a requirements file.
    public var pipPackages: [Sourced<String>] = []
    /// `apt-get install NAME…`.
    public var aptPackages: [Sourced<String>] = []
    /// `pipenv install`, `poetry install`, `uv sync`: the lock file whose pins become `python:`.
    public var lockInstall: Sourced<String>?
    /// HEALTHCHECK's command, for the `test:` ready check.
    public var healthcheck: Sourced<[String]>?
    /// Lines gantry does not translate, each with what to do instead.
    public var untranslated: [Sourced<String>] = []
    /// Lines that need nothing in gantry, and why.
    public var notes: [Sourced<String>] = []

    public init(_ dockerfile: Dockerfile) throws {
        // The final stage is what the image is; ARGs before the first FROM are global.
        let instructions = dockerfile.instructions
        let stages = instructions.indices.filter { instructions[$0].keyword == "FROM" }
        guard let finalStart = stages.last else {
            throw dockerfile.error(line: max(1, instructions.first?.line ?? 1), column: 1, "the Dockerfile has no FROM instruction; start it with FROM IMAGE")
        }
        if let stray = instructions[..<stages[0]].first(where: { $0.keyword != "ARG" }) {
            throw dockerfile.error(line: stray.line, column: 1, "\(stray.keyword) comes before the first FROM (only ARG may); move it below FROM")
        }
        // Where each ARG is declared: a use above its line is an error, as a variable Docker would leave empty.
        var declared: [String: Int] = [:]
        for instruction in instructions where instruction.keyword == "ARG" {
            let name = Self.argument(instruction.arguments.text, [:]).0
            if declared[name] == nil { declared[name] = instruction.line }
        }
        var globals: [String: String] = [:]
        for instruction in instructions[..<stages[0]] {
            let (name, value) = Self.argument(instruction.arguments.text, globals)
            globals[name] = value ?? globals[name]
        }
        for (number, start) in stages.dropLast().enumerated() {
            let end = stages[number + 1]
            let runs = instructions[start..<end].filter { $0.keyword == "RUN" }.map { "'\($0.arguments.text)'" }
            let words = ShellWords.split(instructions[start].arguments.text)
            let name = words.count >= 3 && words[1].lowercased() == "as" ? "stage '\(words[2])'" : "stage \(number)"
            notes.append(Sourced(value: "\(name) (lines \(instructions[start].line)–\(instructions[end].line - 1)) is not built: gantry builds the final stage only"
                                 + (runs.isEmpty ? "" : "; run its steps (\(runs.joined(separator: ", "))) in CI before gantry"), line: instructions[start].line))
        }
        let stageNames: Set<String> = Set(stages.compactMap { index in
            let words = ShellWords.split(dockerfile.instructions[index].arguments.text)
            return words.count >= 3 && words[1].lowercased() == "as" ? words[2].lowercased() : nil
        })
        // A stage sees a global ARG only when it declares it again (ARG NAME), as in Docker.
        var variables: [String: String] = [:]
        var shellForm = ["/bin/sh", "-c"]
        for instruction in instructions[finalStart...] {
            let line = instruction.line
            let text = instruction.arguments.text
            try Self.checkQuotes(instruction, in: dockerfile)
            var unknown: [(name: String, offset: Int)] = []
            let expanded = ShellWords.expand(text, instruction.keyword == "FROM" ? globals : variables, unknown: &unknown)
            if Self.expands.contains(instruction.keyword) {
                let platformVariables = Set(unknown.map(\.name)).intersection(Self.platformArguments).sorted()
                if !platformVariables.isEmpty {
                    untranslated.append(Sourced(value: "\(instruction.keyword) uses \(platformVariables.map { "$" + $0 }.joined(separator: ", ")), the platform Docker builds for; gantry builds the platforms gantry.yaml names: write the value out", line: line))
                }
                unknown.removeAll { Self.platformArguments.contains($0.name) }
                for variable in unknown {
                    if let at = declared[variable.name], at > line || instruction.keyword == "FROM" && at > instructions[stages[0]].line {
                        throw dockerfile.error(line: line, column: instruction.column + variable.offset,
                                               "ARG \(variable.name) is used before it is declared (line \(at)); move the ARG above this line")
                    }
                    if instruction.keyword != "FROM", let at = declared[variable.name], at < instructions[stages[0]].line {
                        throw dockerfile.error(line: line, column: instruction.column + variable.offset,
                                               "ARG \(variable.name) is declared before FROM (line \(at)), which makes it visible to FROM lines only; repeat 'ARG \(variable.name)' inside the stage, above this line")
                    }
                    if instruction.keyword == "FROM" {
                        throw dockerfile.error(line: line, column: instruction.column + variable.offset,
                                               "FROM uses $\(variable.name), which no ARG before the first FROM declares; declare it there (ARG \(variable.name)=IMAGE)")
                    }
                }
                let names = Set(unknown.map(\.name)).sorted()
                if !names.isEmpty && instruction.keyword != "ENV" {
                    untranslated.append(Sourced(value: "\(instruction.keyword) uses \(names.map { "$" + $0 }.joined(separator: ", ")) from the base image's environment, which gantry init cannot see: write the value out in gantry.yaml", line: line))
                }
            }
            switch instruction.keyword {
            case "FROM":
                let image = ShellWords.split(expanded).first ?? expanded
                if stageNames.contains(image.lowercased()) {
                    untranslated.append(Sourced(value: "FROM \(image) builds on an earlier stage, which gantry does not run: build that stage's result another way and name it as the base", line: line))
                }
                base = Sourced(value: image, line: line)
                platform = nil
                if let flag = instruction.flags["platform"] {
                    // A fixed platform translates; $BUILDPLATFORM / $TARGETPLATFORM are the build's own choice.
                    if flag.contains("$") {
                        notes.append(Sourced(value: "FROM --platform=\(flag): gantry builds the platform(s) gantry.yaml names ('platform:' or 'platforms:'), this machine's by default", line: line))
                    } else {
                        platform = Sourced(value: flag, line: line)
                    }
                }
            case "ARG":
                let (name, value) = Self.argument(text, variables)
                if Self.platformArguments.contains(name) { continue }
                // A global ARG re-declared in the stage takes the global's value.
                variables[name] = value ?? globals[name] ?? variables[name] ?? ""
            case "ENV":
                for (name, raw) in Self.rawPairs(text, legacy: true) {
                    var missing: [(name: String, offset: Int)] = []
                    let value = ShellWords.expand(raw, variables, unknown: &missing)
                    guard missing.isEmpty else {
                        untranslated.append(Sourced(value: "ENV \(name)=\(raw) reads \(missing.map { "$" + $0.name }.joined(separator: ", ")) from the base image, which gantry init cannot see: set \(name) in gantry.yaml's env: in full", line: line))
                        continue
                    }
                    env.append(Sourced(value: (name, value), line: line))
                    variables[name] = value
                }
            case "LABEL":
                for (key, value) in Self.pairs(text, variables: variables, legacy: false) { labels.append(Sourced(value: (key, value), line: line)) }
            case "MAINTAINER":
                labels.append(Sourced(value: ("maintainer", expanded), line: line))
            case "WORKDIR":
                workdir = Sourced(value: Self.absolute(expanded, in: workdir?.value ?? "/"), line: line)
            case "USER":
                user = Sourced(value: expanded, line: line)
            case "EXPOSE":
                ports += ShellWords.split(expanded).map { Sourced(value: $0, line: line) }
            case "VOLUME":
                let paths: [String]
                if case .exec(let words) = instruction.arguments { paths = words } else { paths = ShellWords.split(expanded) }
                volumes += paths.map { Sourced(value: $0, line: line) }
            case "STOPSIGNAL":
                stopSignal = Sourced(value: expanded, line: line)
            case "SHELL":
                if case .exec(let words) = instruction.arguments { shellForm = words }
            case "ENTRYPOINT":
                entrypoint = Sourced(value: Self.command(instruction.arguments, shell: shellForm), line: line)
                // Docker: setting ENTRYPOINT clears a CMD set before it (and the base's).
                cmd = nil
            case "CMD":
                cmd = Sourced(value: Self.command(instruction.arguments, shell: shellForm), line: line)
            case "COPY", "ADD":
                try translateCopy(instruction, expanded: expanded, stageNames: stageNames, in: dockerfile)
            case "RUN":
                translateRun(instruction, line: line)
            case "HEALTHCHECK":
                translateHealthcheck(instruction)
            case "ONBUILD":
                notes.append(Sourced(value: "ONBUILD runs in images built FROM this one, not in it: nothing to translate", line: line))
            default:
                untranslated.append(Sourced(value: "\(instruction.keyword) is not translated", line: line))
            }
        }
    }

    /// `NAME[=default]`.
    static func argument(_ text: String, _ variables: [String: String]) -> (String, String?) {
        let word = ShellWords.split(text).first ?? text
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), ShellWords.expand(String(word[word.index(after: equals)...]), variables))
    }

    /// ARGs Docker defines itself (BuildKit's automatic platform arguments).
    static let platformArguments: Set<String> = ["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                                                 "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"]

    /// Instructions whose arguments Docker substitutes variables in (not RUN, CMD, ENTRYPOINT: the shell does).
    static let expands: Set<String> = ["ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]

    /// An unclosed quote where Docker (or the shell, for RUN) splits words: `file:line:column`.
    static func checkQuotes(_ instruction: Dockerfile.Instruction, in dockerfile: Dockerfile) throws {
        guard case .shell(let text) = instruction.arguments, instruction.keyword != "HEALTHCHECK" || !text.isEmpty else { return }
        do { _ = try ShellWords.strictSplit(text) } catch let unclosed as ShellWords.UnclosedQuote {
            throw dockerfile.error(line: instruction.line, column: instruction.column + unclosed.offset,
                                   "unbalanced quotes: the \(unclosed.quote) here is never closed; close it or escape it")
        }
    }

    /// `ENV a=1 b="two words"` or the legacy `ENV name the rest of the line`, values not yet substituted.
    static func rawPairs(_ text: String, legacy: Bool) -> [(String, String)] {
        let words = ShellWords.split(text)
        if legacy, let first = words.first, !first.contains("=") {
            return [(first, text.trimmingLeadingSpace.dropFirst(first.count).trimmingLeadingSpace)]
        }
        return words.compactMap { word in
            guard let equals = word.firstIndex(of: "=") else { return nil }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    /// `LABEL a=1 b="two words"`, substituted against the values before this instruction.
    static func pairs(_ text: String, variables: [String: String], legacy: Bool) -> [(String, String)] {
        rawPairs(text, legacy: legacy).map { ($0.0, ShellWords.expand($0.1, variables)) }
    }

    /// Exec form as it is; shell form run by the shell (`/bin/sh -c "…"`), as Docker runs it.
    static func command(_ arguments: Dockerfile.Arguments, shell: [String]) -> [String] {
        switch arguments {
        case .exec(let words): return words
        case .shell(let text): return shell + [text]
        }
    }

    private mutating func translateCopy(_ instruction: Dockerfile.Instruction, expanded: String, stageNames: Set<String>, in dockerfile: Dockerfile) throws {
        let line = instruction.line
        if let from = instruction.flags["from"] {
            untranslated.append(Sourced(value: "\(instruction.keyword) --from=\(from) copies out of \(stageNames.contains(from.lowercased()) ? "a build stage" : "another image"), which gantry does not run: build those files before gantry and add them as a layer", line: line))
            return
        }
        if !instruction.heredocs.isEmpty {
            untranslated.append(Sourced(value: "\(instruction.keyword) <<\(instruction.heredocs[0].name) writes a file from the Dockerfile: put that file in the project and add it as a layer", line: line))
            return
        }
        var words: [String]
        if case .exec(let list) = instruction.arguments { words = list } else { words = ShellWords.split(expanded) }
        guard words.count >= 2, let destination = words.popLast() else {
            untranslated.append(Sourced(value: "\(instruction.keyword) needs a source and a destination", line: line))
            return
        }
        let directory = workdir?.value ?? "/"
        for source in words {
            if source.contains("://") {
                untranslated.append(Sourced(value: "ADD \(source) downloads at build time: fetch it as a model (model: source) or into the project first", line: line))
                continue
            }
            if instruction.keyword == "ADD", [".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2"].contains(where: source.hasSuffix) {
                untranslated.append(Sourced(value: "ADD \(source) would be unpacked by Docker; unpack it into the project and add the directory as a layer", line: line))
                continue
            }
            if source.hasPrefix("/") || Self.escapes(source) {
                throw dockerfile.error(line: line, column: instruction.column, "\(instruction.keyword) \(source) is outside the build context; copy it into the project directory first")
            }
            // Docker: a destination ending in / or . (or several sources) is a directory, a file keeps its name there.
            let isDirectory = words.count > 1 || destination.hasSuffix("/") || destination == "." || destination.hasSuffix("/.")
            var target = Self.absolute(destination, in: directory)
            if isDirectory && !target.hasSuffix("/") { target += "/" }
            if target.count > 1 && target.hasSuffix("/") && (source == "." || source.hasSuffix("/")) { target.removeLast() }
            var owner = instruction.flags["chown"]
            if let named = owner, !named.split(separator: ":").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                untranslated.append(Sourced(value: "\(instruction.keyword) --chown=\(named) names a user, which only the base's /etc/passwd resolves: write its uid:gid as the layer's ownership:", line: line))
                owner = nil
            }
            var mode = instruction.flags["chmod"]
            if let bits = mode, !((3...4).contains(bits.count) && bits.allSatisfy({ ("0"..."7").contains($0) })) {
                untranslated.append(Sourced(value: "\(instruction.keyword) --chmod=\(bits): only octal modes are translated; write the layer's mode: in octal", line: line))
                mode = nil
            }
            var copy = Copy(source: source, destination: target, ownership: owner, mode: mode, line: line)
            if let exclude = instruction.flags["exclude"] { copy.exclude = [exclude] }
            copies.append(copy)
        }
    }

    /// `path` made absolute against `directory`, `.` and `..` resolved, no trailing slash (but `/`).
    static func absolute(_ path: String, in directory: String) -> String {
        var components: [Substring] = []
        for component in ((path.hasPrefix("/") ? "" : directory + "/") + path).split(separator: "/") {
            if component == "." { continue }
            if component == ".." { _ = components.popLast(); continue }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// Tools a Dockerfile installs to install the app's dependencies, not for the app.
    static let buildTools: Set<String> = ["pipenv", "poetry", "uv", "pip-tools", "pdm", "hatch"]

    /// Whether a relative path climbs out of the directory it is relative to.
    static func escapes(_ path: String) -> Bool {
        var depth = 0
        for component in path.split(separator: "/") {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            if depth < 0 { return true }
        }
        return false
    }

    private mutating func translateRun(_ instruction: Dockerfile.Instruction, line: Int) {
        if !instruction.heredocs.isEmpty {
            untranslated.append(Sourced(value: "RUN <<\(instruction.heredocs[0].name) runs a script at build time; gantry runs nothing: do its work before the build, or at the app's start", line: line))
            return
        }
        let text: String
        switch instruction.arguments {
        case .exec(let words): text = words.joined(separator: " ")
        case .shell(let shell): text = shell
        }
        // Each command of a && / ; chain on its own.
        let commands = Self.commands(in: text)
        for command in commands where !command.isEmpty {
            let words = ShellWords.split(command)
            guard let program = words.first.map({ $0.split(separator: "/").last.map(String.init) ?? $0 }) else { continue }
            switch program {
            case _ where program == "pip" || program.hasPrefix("pip3") || (program.hasPrefix("python") && words.dropFirst().prefix(2).contains("pip"))
                || (program == "uv" && words.dropFirst().first == "pip"):
                translatePip(Array(words.drop { $0 != "install" }.dropFirst()), command: command, line: line)
            case "apt-get", "apt":
                if let install = words.firstIndex(of: "install") {
                    let names = words[(install + 1)...].filter { !$0.hasPrefix("-") }
                    aptPackages += names.map { Sourced(value: $0, line: line) }
                } else if words.contains("update") || words.contains("clean") || words.contains("upgrade") {
                    notes.append(Sourced(value: "'\(command)': nothing to do (gantry reads the repositories' indexes itself; upgrades come with a newer base)", line: line))
                } else {
                    untranslated.append(Sourced(value: "'\(command)' is not translated", line: line))
                }
            case "useradd", "adduser", "groupadd", "addgroup":
                untranslated.append(Sourced(value: "'\(command)' creates a user at build time, and gantry runs nothing: run as a numeric user instead (user: \"1000:1000\", and ownership: \"1000:1000\" on the layers it writes to)", line: line))
            case "rm" where command.contains("/var/lib/apt/lists"):
                notes.append(Sourced(value: "'\(command)': nothing to do (gantry leaves no apt lists in the image)", line: line))
            case "pipenv" where words.contains("install") || words.contains("sync"):
                lockInstall = lockInstall ?? Sourced(value: "Pipfile.lock", line: line)
            case "poetry" where words.contains("install"):
                lockInstall = lockInstall ?? Sourced(value: "poetry.lock", line: line)
            case "uv" where words.contains("sync"):
                lockInstall = lockInstall ?? Sourced(value: "uv.lock", line: line)
            default:
                untranslated.append(Sourced(value: "'\(command)' runs at build time, and gantry runs nothing: do it before the build (and add its output as a layer), or when the app starts", line: line))
            }
        }
    }

    /// The commands of a `a && b || c; d` chain, each trimmed.
    static func commands(in text: String) -> [String] {
        var commands: [String] = []
        var current = ""
        var characters = Array(text)[...]
        var quote: Character?
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil }
                current.append(character)
                continue
            }
            if character == "'" || character == "\"" { quote = character }
            let pair = characters.first.map { String([character, $0]) }
            if pair == "&&" || pair == "||" {
                characters = characters.dropFirst()
                commands.append(current)
                current = ""
            } else if character == ";" {
                commands.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        commands.append(current)
        return commands.map { $0.trimmingLeadingSpace.trimmingTrailingSpace }.filter { !$0.isEmpty }
    }

    private mutating func translatePip(_ arguments: [String], command: String, line: Int) {
        var names: [String] = []
        var index = 0
        var upgradesOnly = true
        while index < arguments.count {
            let word = arguments[index]
            if word == "-r" || word == "--requirement", index + 1 < arguments.count {
                if requirements == nil { requirements = Sourced(value: arguments[index + 1], line: line) }
                upgradesOnly = false
                index += 2
                continue
            }
            if word.hasPrefix("--requirement=") || word.hasPrefix("-r") && word.count > 2 {
                if requirements == nil { requirements = Sourced(value: String(word.drop { $0 != "=" && $0 != "r" }.dropFirst()), line: line) }
                upgradesOnly = false
            } else if word == "-c" || word == "--constraint" || word == "-i" || word == "--index-url" || word == "--extra-index-url" || word == "-f" {
                index += 1
            } else if !word.hasPrefix("-") {
                if ["pip", "setuptools", "wheel"].contains(word.lowercased()) {
                    index += 1
                    continue
                }
                if Self.buildTools.contains(word.lowercased().split(separator: "=").first.map(String.init) ?? word) {
                    notes.append(Sourced(value: "'\(command)': \(word) is a build tool; gantry reads the lock file itself, nothing to install", line: line))
                    upgradesOnly = false
                    index += 1
                    continue
                }
                if word == "." || word.hasPrefix("./") || word.hasPrefix("-e") {
                    untranslated.append(Sourced(value: "'\(command)' installs the project itself; list its dependencies in requirements.txt and add its source as a layer", line: line))
                } else {
                    names.append(word)
                }
                upgradesOnly = false
            }
            index += 1
        }
        pipPackages += names.map { Sourced(value: $0, line: line) }
        if upgradesOnly { notes.append(Sourced(value: "'\(command)': nothing to do (gantry installs with the build machine's pip)", line: line)) }
    }

    private mutating func translateHealthcheck(_ instruction: Dockerfile.Instruction) {
        var text = instruction.arguments.text
        if text.uppercased() == "NONE" { return }
        if text.uppercased().hasPrefix("CMD") { text = String(text.dropFirst(3)).trimmingLeadingSpace }
        let command: [String]
        if text.hasPrefix("["), let words = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) { command = words } else { command = ["/bin/sh", "-c", text] }
        healthcheck = Sourced(value: command, line: instruction.line)
    }
}
