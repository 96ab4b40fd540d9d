import FoundationEssentials
import Diagnostics
import ByteStreams
import SystemSupport

/// `gantry init`'s reading of a project: a Dockerfile translated instruction by
/// instruction, or, without one, its requirements (requirements.txt, Pipfile.lock,
/// poetry.lock, uv.lock, pyproject.toml), Python version, Procfile or web-app
/// module, and model files; the result is a `RecipeDraft`, the files it needs
/// (a requirements file made from a lock), and what was not translated.
public struct ProjectImporter {
    public let directory: String
    /// A Dockerfile to read instead of `directory/Dockerfile` (relative to the current directory).
    public var dockerfilePath: String?

    public init(directory: String, dockerfilePath: String? = nil) {
        self.directory = directory
        self.dockerfilePath = dockerfilePath
    }

    public struct Result: Sendable {
        public var draft: RecipeDraft
        /// Files to write beside the recipe (name relative to the directory, content).
        public var files: [(name: String, content: String)]
        /// `Dockerfile:7: RUN python train.py — …`: what has no translation, with what to do.
        public var untranslated: [String]
        /// Lines that needed nothing, and why.
        public var notes: [String]
    }

    /// Files a dependency install reads: a COPY of one alone is not needed in the image.
    static let dependencyFiles: Set<String> = ["requirements.txt", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "requirements.gantry.txt"]

    /// The requirements file a lock or a pip line becomes.
    public static let generatedRequirements = "requirements.gantry.txt"
    static let defaultPort = 8000

    public func run() throws -> Result {
        let project = ProjectFiles(directory: directory)
        let files = project.files()
        var draft = RecipeDraft()
        var extra: [(name: String, content: String)] = []
        var untranslated: [String] = []
        var notes: [String] = []
        var read: [String] = []
        var port: Int?

        let dockerfile = try dockerfilePath.map { ($0, try Self.readDockerfile($0)) }
            ?? (project.exists("Dockerfile") ? ("Dockerfile", try Self.readDockerfile(directory + "/Dockerfile")) : nil)
        if let (path, text) = dockerfile {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            read.append(name)
            let translation = try DockerfileTranslation(try Dockerfile(text: text, path: name))
            let from = { (line: Int) in "from \(name):\(line)" }
            if let base = translation.base { draft.base = .init(value: base.value, why: from(base.line)) }
            if let platform = translation.platform { draft.platform = .init(value: platform.value, why: from(platform.line) + " (FROM --platform)") }
            if let workdir = translation.workdir { draft.workdir = .init(value: workdir.value, why: from(workdir.line)) }
            if let user = translation.user { draft.user = .init(value: user.value, why: from(user.line)) }
            if let signal = translation.stopSignal { draft.stopSignal = .init(value: signal.value, why: from(signal.line)) }
            draft.env = translation.env.map { .init(value: $0.value, why: from($0.line)) }
            draft.labels = translation.labels.map { .init(value: $0.value, why: from($0.line)) }
            if let first = translation.ports.first {
                draft.ports = .init(value: translation.ports.map(\.value), why: from(first.line))
                port = Int(first.value.split(separator: "/").first ?? "")
            }
            if let first = translation.volumes.first { draft.volumes = .init(value: translation.volumes.map(\.value), why: from(first.line)) }
            if let entrypoint = translation.entrypoint {
                draft.entrypoint = .init(value: Self.moduleForm(entrypoint.value), why: from(entrypoint.line) + Self.rewriteNote(entrypoint.value))
            }
            if let cmd = translation.cmd { draft.cmd = .init(value: Self.moduleForm(cmd.value), why: from(cmd.line) + Self.rewriteNote(cmd.value)) }
            if let first = translation.aptPackages.first {
                draft.packages = .init(value: translation.aptPackages.map(\.value), why: from(first.line) + " (apt-get install)")
            }
            // pip's requirements file: named in the context (not where the image put it).
            var requirementsFile: String?
            if let requirements = translation.requirements {
                let base = requirements.value.split(separator: "/").last.map(String.init) ?? requirements.value
                requirementsFile = project.exists(requirements.value) ? requirements.value : (project.exists(base) ? base : nil)
                if let file = requirementsFile {
                    draft.python = (.init(value: file, why: from(requirements.line) + " (pip install -r)"), nil)
                } else {
                    untranslated.append("\(name):\(requirements.line): pip install -r \(requirements.value): no such file in \(directory); point python.requirements at it")
                }
            }
            if let lock = translation.lockInstall {
                guard let text = project.text(lock.value) else {
                    throw Failure(.missingInput, "\(name):\(lock.line) installs from \(lock.value), which is not in \(directory); lock the project first (pipenv lock, poetry lock, uv lock)")
                }
                let pins = lock.value == "Pipfile.lock" ? try PythonLocks.pipfileLock(Array(text.utf8), path: directory + "/" + lock.value) : PythonLocks.tomlLock(text)
                extra.append((Self.generatedRequirements, Self.requirementsText(pins, from: lock.value)))
                requirementsFile = Self.generatedRequirements
                draft.python = (.init(value: Self.generatedRequirements, why: from(lock.line) + " (\(lock.value)'s \(pins.count) pins and hashes, not re-resolved)"), nil)
            }
            if !translation.pipPackages.isEmpty {
                let lines = (requirementsFile.flatMap { project.text($0) }.map { [$0.trimmingTrailingSpace] } ?? []) + translation.pipPackages.map(\.value)
                extra.append((Self.generatedRequirements, lines.joined(separator: "\n") + "\n"))
                draft.python = (.init(value: Self.generatedRequirements, why: from(translation.pipPackages[0].line) + " (pip install, written to \(Self.generatedRequirements))"), nil)
            }
            for copy in translation.copies {
                // Dependency files copied alone: gantry reads them from the project, the image needs no copy.
                if Self.dependencyFiles.contains(copy.source) || copy.source == requirementsFile {
                    notes.append("\(name):\(copy.line): COPY \(copy.source): not needed (gantry reads it from the project)")
                    continue
                }
                var source = copy.source == "./" ? "." : copy.source
                var destination = copy.destination
                var ignore = copy.exclude
                if source.contains("*") || source.contains("?") || source.contains("[") {
                    // A pattern: the project's matching files, as .dockerignore patterns over the whole directory.
                    let slash = source.lastIndex(of: "/")
                    let folder = slash.map { String(source[..<$0]) } ?? "."
                    ignore = ["*", "!" + String(source[(slash.map { source.index(after: $0) } ?? source.startIndex)...])] + ignore
                    source = folder
                    if !destination.hasSuffix("/") { destination += "/" }
                } else if !project.exists(source) {
                    throw Failure(.missingInput, "\(name):\(copy.line): COPY \(source): no such file in \(directory); the build context is the project directory")
                }
                // A folder of model files (named model/models, or copied below /models): a model set of its own.
                if project.isDirectory(source), Self.isModelFolder(source, destination: destination) {
                    let folder = source.hasSuffix("/") ? source : source + "/"
                    let target = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
                    draft.models.append(.init(source: folder, destination: target,
                                              why: from(copy.line) + "; a model folder: publish it to blob storage and make this az://ACCOUNT/CONTAINER/PREFIX/ or s3://BUCKET/PREFIX/"))
                    continue
                }
                // A directory's contents go below the destination (no trailing slash needed).
                if project.isDirectory(source), destination.count > 1, destination.hasSuffix("/") { destination.removeLast() }
                if !project.isDirectory(source) && !destination.hasSuffix("/") && copy.destination.hasSuffix("/") { destination += "/" }
                var layer = RecipeDraft.Layer(source: source, destination: destination, ownership: copy.ownership, why: from(copy.line))
                layer.mode = copy.mode
                layer.ignore = ignore
                if source == "." && ignore.isEmpty { layer.ignore = ["Dockerfile", "gantry.yaml", ".git"] }
                draft.layers.append(layer)
            }
            if let health = translation.healthcheck {
                if let (path, healthPort) = Self.httpProbe(health.value) {
                    draft.readyPath = .init(value: path, why: from(health.line) + " (HEALTHCHECK)")
                    port = port ?? healthPort
                } else {
                    draft.execCheck = .init(value: health.value, why: from(health.line) + " (HEALTHCHECK)")
                }
            }
            untranslated += translation.untranslated.map { "\(name):\($0.line): \($0.value)" }
            notes += translation.notes.map { "\(name):\($0.line): \($0.value)" }
            if case let base? = draft.base?.value, let version = Self.pythonVersion(ofImage: base) {
                draft.python?.version = .init(value: version, why: "the base's Python (\(base))")
            }
        } else {
            try detectWithoutDockerfile(project, files: files, draft: &draft, extra: &extra, read: &read, port: &port)
        }

        // Model files the image gets: a model entry each (a layer of its own, or a
        // blob-storage source later), left out of the app layer that holds them.
        let models = project.modelFiles(in: files)
        for index in draft.layers.indices where !models.isEmpty {
            let layer = draft.layers[index]
            let inside = models.filter { layer.source == "." || $0.path == layer.source || $0.path.hasPrefix(layer.source + "/") }
            guard !inside.isEmpty, layer.ignore.first != "*" else { continue }
            for model in inside {
                let destination: String
                if model.path == layer.source {
                    destination = layer.destination.hasSuffix("/") ? layer.destination + PathName.lastComponent(of: model.path) : layer.destination
                } else {
                    let relative = layer.source == "." ? model.path : String(model.path.dropFirst(layer.source.count + 1))
                    destination = (layer.destination == "/" ? "" : layer.destination) + "/" + relative
                    draft.layers[index].ignore.append(relative)
                }
                draft.models.append(.init(source: model.path, destination: destination,
                                          why: "\(layer.why.isEmpty ? "" : layer.why + "; ")\(model.why); publish it to blob storage and make this an az:// or s3:// source"))
            }
        }
        // A layer that was only a model file is the model entry now.
        draft.layers.removeAll { layer in models.contains { $0.path == layer.source } }
        let testPort = port ?? Self.defaultPort
        if draft.readyPath == nil, draft.execCheck == nil, let app = project.webApp(in: files) {
            if let path = project.readyPath(appFile: app.file) {
                draft.readyPath = .init(value: path, why: "a route of \(app.file)")
            } else {
                draft.readyTCP = .init(value: true, why: "\(app.file) has no GET route: the port accepting connections means ready")
            }
        }
        if draft.execCheck != nil && draft.readyPath == nil {
            draft.readyTCP = .init(value: true, why: "the HEALTHCHECK runs once the port accepts connections")
        }
        if draft.readyPath == nil && draft.readyTCP == nil { draft.readyPath = .init(value: "/", why: "assumed: the app answers GET /") }
        draft.testPort = testPort
        draft.header = ["Written by `gantry init` from " + (read.isEmpty ? "the project's files" : read.joined(separator: ", ")) + ".",
                        "Each value names its evidence; check them, then run `gantry build --test`."]
        if !untranslated.isEmpty {
            draft.footer = ["", "Not translated (gantry runs nothing at build time):"] + Self.inLineOrder(untranslated).map { "  " + $0 }
        }
        return Result(draft: draft, files: extra, untranslated: Self.inLineOrder(untranslated), notes: Self.inLineOrder(notes))
    }

    private func detectWithoutDockerfile(_ project: ProjectFiles, files: [String], draft: inout RecipeDraft,
                                         extra: inout [(name: String, content: String)], read: inout [String], port: inout Int?) throws {
        let version = project.pythonVersion()
        let python = version?.version ?? "3.12"
        draft.base = .init(value: "python:\(python)-slim", why: version.map { "the official Python image for \($0.file)'s \(python)" } ?? "the official Python image (no .python-version or runtime.txt: 3.12 assumed)")
        let versionEntry = RecipeDraft.Commented(value: python, why: "the base's Python")
        if project.exists("requirements.txt") {
            read.append("requirements.txt")
            draft.python = (.init(value: "requirements.txt", why: "the project's requirements"), versionEntry)
        } else if let lock = project.text("Pipfile.lock") {
            read.append("Pipfile.lock")
            let pins = try PythonLocks.pipfileLock(Array(lock.utf8), path: directory + "/Pipfile.lock")
            extra.append((Self.generatedRequirements, Self.requirementsText(pins, from: "Pipfile.lock")))
            draft.python = (.init(value: Self.generatedRequirements, why: "Pipfile.lock's \(pins.count) pins and hashes"), versionEntry)
        } else if let (file, lock) = ["poetry.lock", "uv.lock"].lazy.compactMap({ name in project.text(name).map { (name, $0) } }).first {
            read.append(file)
            let pins = PythonLocks.tomlLock(lock)
            extra.append((Self.generatedRequirements, Self.requirementsText(pins, from: file)))
            draft.python = (.init(value: Self.generatedRequirements, why: "\(file)'s \(pins.count) pins and hashes"), versionEntry)
        } else if let pyproject = project.text("pyproject.toml") {
            read.append("pyproject.toml")
            let dependencies = PythonLocks.pyprojectDependencies(pyproject)
            extra.append((Self.generatedRequirements, "# From pyproject.toml's [project] dependencies, as written (only a lock file pins the whole tree).\n" + dependencies.joined(separator: "\n") + "\n"))
            draft.python = (.init(value: Self.generatedRequirements, why: "pyproject.toml's \(dependencies.count) dependencies"), versionEntry)
        }
        draft.layers = [RecipeDraft.Layer(source: ".", destination: "/app", ignore: ["Dockerfile", "gantry.yaml", ".git", ".venv", "venv", "__pycache__", "*.pyc"],
                                          why: "the project")]
        draft.workdir = .init(value: "/app", why: "")
        let requirements = (draft.python.flatMap { project.text($0.requirements.value) } ?? extra.first?.content ?? "").lowercased()
        if let web = project.procfileWeb() {
            read.append("Procfile")
            var command = web
            if command.contains("$PORT") {
                draft.env.append(.init(value: ("PORT", String(Self.defaultPort)), why: "the Procfile reads $PORT"))
                port = Self.defaultPort
            }
            command = Self.moduleForm(["/bin/sh", "-c", command]).last ?? command
            draft.cmd = .init(value: ["/bin/sh", "-c", command], why: "the Procfile's web: line")
            port = port ?? Self.port(inCommand: ShellWords.split(web))
        } else if let app = project.webApp(in: files) {
            let target = "\(app.module):\(app.variable)"
            if requirements.contains("gunicorn") {
                draft.cmd = .init(value: ["python3", "-m", "gunicorn", "--bind", "0.0.0.0:\(Self.defaultPort)", target],
                                  why: "requirements list gunicorn; \(app.file) makes the \(app.framework.rawValue) app")
            } else if requirements.contains("uvicorn") {
                draft.cmd = .init(value: ["python3", "-m", "uvicorn", target, "--host", "0.0.0.0", "--port", String(Self.defaultPort)],
                                  why: "requirements list uvicorn; \(app.file) makes the \(app.framework.rawValue) app")
            } else if app.framework == .flask {
                draft.cmd = .init(value: ["python3", "-m", "flask", "--app", target, "run", "--host", "0.0.0.0", "--port", String(Self.defaultPort)],
                                  why: "\(app.file) makes the Flask app (no gunicorn in the requirements: Flask's own server)")
            }
            port = Self.defaultPort
        }
        if let port { draft.ports = .init(value: [String(port)], why: "the port the app listens on") }
    }

    /// A COPY of a directory that holds a model: its path names one, or it lands below /models.
    static func isModelFolder(_ source: String, destination: String) -> Bool {
        source.split(separator: "/").contains { ["model", "models", "weights", "checkpoints"].contains($0.lowercased()) }
            || destination.hasPrefix("/models/") || destination == "/models"
    }

    /// `Dockerfile:N: …` lines sorted by N, keeping the order of lines with the same N.
    static func inLineOrder(_ lines: [String]) -> [String] {
        func number(_ line: String) -> Int { line.split(separator: ":", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0 }
        return lines.enumerated().sorted { (number($0.element), $0.offset) < (number($1.element), $1.offset) }.map(\.element)
    }

    static func readDockerfile(_ path: String) throws -> String {
        guard let bytes = try? FileReader.readSmallFile(path, limit: 4 << 20) else {
            throw Failure(.missingInput, "Dockerfile \(path) cannot be read; check the path (--from-dockerfile)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func requirementsText(_ pins: [PythonLocks.Pin], from file: String) -> String {
        "# From \(file) by gantry init: its pins and hashes, not re-resolved. Regenerate after locking again.\n"
            + pins.map(\.line).joined(separator: "\n") + "\n"
    }

    /// gantry's dependencies layer has no console scripts (their shebangs name the
    /// build machine's interpreter): `gunicorn …` runs as `python3 -m gunicorn …`.
    static let consoleScripts = ["gunicorn": "gunicorn", "uvicorn": "uvicorn", "flask": "flask", "hypercorn": "hypercorn",
                                 "waitress-serve": "waitress", "streamlit": "streamlit", "celery": "celery"]

    static func moduleForm(_ command: [String]) -> [String] {
        guard let first = command.first else { return command }
        if let module = consoleScripts[first.split(separator: "/").last.map(String.init) ?? first] {
            return ["python3", "-m", module] + command.dropFirst()
        }
        // A shell's `-c SCRIPT` (sh, bash -o pipefail, …): the script's first word.
        if command.count >= 3, command[0].hasSuffix("sh"), command[command.count - 2] == "-c" {
            var script = command[command.count - 1]
            let prefix = script.hasPrefix("exec ") ? "exec " : ""
            let rest = script.dropFirst(prefix.count)
            let word = rest.prefix { $0 != " " }
            if let module = consoleScripts[String(word)] { script = prefix + "python3 -m \(module)" + rest.dropFirst(word.count) }
            return command.dropLast() + [script]
        }
        return command
    }

    static func rewriteNote(_ command: [String]) -> String {
        moduleForm(command) == command ? "" : "; console scripts run as python3 -m"
    }

    /// `python:3.12-slim` → 3.12 (the official images name their Python in the tag).
    static func pythonVersion(ofImage image: String) -> String? {
        let name = image.split(separator: "@").first.map(String.init) ?? image
        guard let colon = name.lastIndex(of: ":"), name[..<colon].split(separator: "/").last == "python" else { return nil }
        let parts = name[name.index(after: colon)...].split(whereSeparator: { $0 == "." || $0 == "-" })
        guard parts.count >= 2, Int(parts[0]) != nil, Int(parts[1]) != nil else { return nil }
        return "\(parts[0]).\(parts[1])"
    }

    /// A health check that is `curl`/`wget` of `http://localhost:PORT/PATH`: its path and port.
    static func httpProbe(_ command: [String]) -> (String, Int?)? {
        let words = command.count == 3 && command[1] == "-c" ? ShellWords.split(command[2]) : command
        guard let url = words.first(where: { $0.hasPrefix("http://localhost") || $0.hasPrefix("http://127.0.0.1") }) else { return nil }
        let afterScheme = url.dropFirst("http://".count)
        let hostPort = afterScheme.prefix { $0 != "/" }
        let path = afterScheme.dropFirst(hostPort.count)
        let port = hostPort.split(separator: ":").dropFirst().first.flatMap { Int($0) }
        return (path.isEmpty ? "/" : String(path), port)
    }

    /// `--bind 0.0.0.0:8000`, `-b :8000`, `--port 8000` in a command.
    static func port(inCommand words: [String]) -> Int? {
        for (index, word) in words.enumerated() {
            if ["--bind", "-b"].contains(word), index + 1 < words.count, let port = words[index + 1].split(separator: ":").last.flatMap({ Int($0) }) { return port }
            if word.hasPrefix("--bind="), let port = word.split(separator: ":").last.flatMap({ Int($0) }) { return port }
            if word == "--port", index + 1 < words.count, let port = Int(words[index + 1]) { return port }
        }
        return nil
    }
}

extension ProjectImporter {
    /// Whether there is anything to read: a Dockerfile, Python dependencies, or Python files.
    public var hasProject: Bool {
        let project = ProjectFiles(directory: directory)
        if ["Dockerfile", "requirements.txt", "Pipfile.lock", "poetry.lock", "uv.lock", "pyproject.toml", "Procfile"].contains(where: project.exists) { return true }
        return project.files().contains { $0.hasSuffix(".py") }
    }
}
