import FoundationEssentials
import Glibc
import ByteStreams
import SystemSupport

/// What a project directory holds that says how to build it: which module makes
/// the web app (`Flask(` / `FastAPI(`) and its routes, a Procfile's `web:` line,
/// the Python version it asks for, and model files (weights by extension, or any
/// file of 16 MiB or more). Reads small text files only; never leaves `directory`.
struct ProjectFiles {
    let directory: String

    static let modelExtensions = [".safetensors", ".onnx", ".pt", ".pth", ".pkl", ".joblib", ".h5", ".keras", ".gguf", ".bin"]
    static let skipped: Set<String> = [".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"]

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: directory + "/" + name) }

    func isDirectory(_ name: String) -> Bool { PathName.isDirectory(directory + "/" + name) == true }

    func text(_ name: String, limit: Int = 4 << 20) -> String? {
        (try? FileReader.readSmallFile(directory + "/" + name, limit: limit)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Relative paths of regular files below the directory, sorted (skipping
    /// virtual environments, VCS and caches; at most 20,000 names).
    func files() -> [String] {
        var found: [String] = []
        var pending = [""]
        while let relative = pending.popLast(), found.count < 20_000 {
            let full = relative.isEmpty ? directory : directory + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: full) else { continue }
            for name in names.sorted() where !Self.skipped.contains(name) {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(directory + "/" + path, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR { pending.append(path) }
                else if (info.st_mode & S_IFMT) == S_IFREG { found.append(path) }
            }
        }
        return found.sorted()
    }

    /// Model files: weights by extension (a `.bin` only at 16 MiB or more), or any file that large.
    func modelFiles(in files: [String]) -> [(path: String, why: String)] {
        files.compactMap { path in
            var info = stat()
            guard stat(directory + "/" + path, &info) == 0 else { return nil }
            let size = Int64(info.st_size)
            let lower = path.lowercased()
            if let ext = Self.modelExtensions.first(where: { lower.hasSuffix($0) }), ext != ".bin" || size >= 16 << 20 {
                return (path, "a \(ext) file: model weights")
            }
            if size >= 16 << 20, !lower.hasSuffix(".py"), !lower.hasSuffix(".txt") {
                return (path, "\(size >> 20) MiB: too big for the app layer")
            }
            return nil
        }
    }

    /// The module that creates the app and its variable: `app.py` with `app = Flask(__name__)` → ("app", "app", .flask).
    enum Framework: String { case flask = "Flask", fastAPI = "FastAPI" }

    func webApp(in files: [String]) -> (module: String, variable: String, framework: Framework, file: String)? {
        for path in files where path.hasSuffix(".py") && path.split(separator: "/").count <= 2 {
            guard let source = text(path, limit: 1 << 20) else { continue }
            for line in source.split(whereSeparator: \.isNewline) {
                for framework in [Framework.flask, .fastAPI] where line.contains("= \(framework.rawValue)(") || line.contains("=\(framework.rawValue)(") {
                    let variable = line.split(separator: "=").first.map { $0.trimmingLeadingSpace.trimmingTrailingSpace } ?? "app"
                    guard !variable.isEmpty, variable.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
                    let module = String(path.dropLast(3)).split(separator: "/").joined(separator: ".")
                    return (module, variable, framework, path)
                }
            }
        }
        return nil
    }

    /// The path the app answers GET on: `/` when it has that route, else a
    /// health route, else its first route without parameters.
    func readyPath(appFile: String) -> String? {
        guard let source = text(appFile, limit: 1 << 20) else { return nil }
        var routes: [String] = []
        for line in source.split(whereSeparator: \.isNewline) {
            let text = line.trimmingLeadingSpace
            guard text.hasPrefix("@"), text.contains(".route(") || text.contains(".get(") else { continue }
            if text.contains("methods="), !text.contains("GET") { continue }
            if let path = PythonLocks.strings(in: text).first, path.hasPrefix("/"), !path.contains("<"), !path.contains("{") {
                routes.append(path)
            }
        }
        if routes.contains("/") { return "/" }
        return routes.first { ["/health", "/healthz", "/ready", "/ping"].contains($0) } ?? routes.first
    }

    /// `.python-version` (`3.12.1`) or `runtime.txt` (`python-3.12.1`), as `major.minor`.
    func pythonVersion() -> (version: String, file: String)? {
        for (file, prefix) in [(".python-version", ""), ("runtime.txt", "python-")] {
            guard let text = text(file, limit: 4096)?.split(whereSeparator: \.isNewline).first.map({ $0.trimmingLeadingSpace.trimmingTrailingSpace }),
                  text.hasPrefix(prefix) else { continue }
            let parts = text.dropFirst(prefix.count).split(separator: ".")
            if parts.count >= 2, Int(parts[0]) != nil, Int(parts[1]) != nil { return ("\(parts[0]).\(parts[1])", file) }
        }
        return nil
    }

    /// The Procfile's `web:` command.
    func procfileWeb() -> String? {
        text("Procfile", limit: 65536)?.split(whereSeparator: \.isNewline).first { $0.hasPrefix("web:") }
            .map { String($0.dropFirst(4)).trimmingLeadingSpace.trimmingTrailingSpace }
    }
}
