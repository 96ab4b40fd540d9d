import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// `python:` in gantry.yaml: install requirements.txt for the image's platform
/// with the build host's pip, so the base image needs no pip and no compiler.
public struct PythonSettings: Sendable, Equatable {
    public var requirements: String
    /// The base image's Python, `major.minor`.
    public var version: String = "3.11"
    /// Where the packages go in the image; PYTHONPATH points there.
    public var target: String = "/opt/gantry/python"
    /// pip platform tag; default manylinux_2_28 for the image's architecture
    /// (pip also accepts older manylinux wheels under it).
    public var platformTag: String?

    public init(requirements: String) { self.requirements = requirements }
}

/// Runs `pip install --target` for the target platform (`--platform`,
/// `--python-version`, `--implementation cp`, `--only-binary=:all:`), cached in
/// the store's `python` cache directory under a key that hashes the requirements, platform
/// and Python version: unchanged requirements never run pip again.
struct PythonDependencies {
    let store: ContentStore
    let settings: PythonSettings
    let platform: Platform

    static let cacheVersion = "gantry-python-v1"

    var platformTag: String {
        if let tag = settings.platformTag { return tag }
        let arch = ["amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x"][platform.architecture] ?? platform.architecture
        return "manylinux_2_28_\(arch)"
    }

    /// The requirements file's bytes.
    func requirements() throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: settings.requirements) else {
            throw Failure(.missingInput, "python requirements \(settings.requirements) does not exist; check 'python.requirements' in gantry.yaml")
        }
        return try FileReader.readSmallFile(settings.requirements)
    }

    /// Where these requirements are (or will be) installed in the store.
    func cachedDirectory() throws -> String {
        let keyText = "\(Self.cacheVersion)\n\(platformTag)\n\(settings.version)\ncp\n" + String(decoding: try requirements(), as: UTF8.self)
        return try store.cacheDirectory(in: .python, key: SHA256Hasher.hash(Array(keyText.utf8)).hex)
    }

    /// Whether pip already ran for these requirements in this store.
    func isInstalled() throws -> Bool { FileManager.default.fileExists(atPath: try cachedDirectory()) }

    /// The directory holding the installed packages (made on first use).
    func install() throws -> String {
        let requirementsPath = settings.requirements
        let directory = try cachedDirectory()
        if FileManager.default.fileExists(atPath: directory) { return directory }

        let temp = "\(directory).tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let arguments = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--no-input",
                         "--target", temp, "--platform", platformTag, "--python-version", settings.version,
                         "--implementation", "cp", "--only-binary=:all:", "-r", requirementsPath]
        let (status, errors) = try run("python3", arguments)
        guard status == 0 else {
            let reason = errors.split(separator: "\n").last(where: { $0.contains("ERROR") }).map(String.init)
                ?? errors.split(separator: "\n").last.map(String.init) ?? "pip exited with \(status)"
            throw Failure(.invalidInput, "python requirements \(requirementsPath) cannot be installed for \(platform) (\(platformTag), Python \(settings.version)): \(reason.trimmingWhitespace())")
        }
        // Checked before it enters the cache: a wrong-architecture install is never reused.
        try NativeFileCheck.verify(installed: temp, platform: platform, platformTag: platformTag)
        // Console scripts carry the build host's interpreter path in their shebang:
        // not reproducible, and wrong in the image. Run tools as `python3 -m name`.
        try? FileManager.default.removeItem(atPath: temp + "/bin")
        guard rename(temp, directory) == 0 || FileManager.default.fileExists(atPath: directory) else {
            throw SystemError.failure("store python packages in", path: directory)
        }
        return directory
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        var pip = Subprocess(tool, arguments)
        pip.discardOutput = true
        do {
            let result = try pip.run()
            return (result.status, result.errors)
        } catch let failure as Subprocess.LaunchFailure {
            throw Failure(.missingInput, "\(failure) for the dependencies layer; install Python 3 with pip on the build machine", cause: failure)
        }
    }
}
