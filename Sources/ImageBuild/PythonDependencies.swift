import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Layering
import ImageContents
import Diagnostics
import Locking

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
    /// `--locked`: exactly these distributions (gantry.lock), installed with
    /// `--no-deps` from a requirements file of their versions and hashes.
    public var locked: [LockFile.PythonDistribution]?

    public init(requirements: String) { self.requirements = requirements }
}

/// Runs `pip install --target` for the target platform (`--platform` for every
/// tag the base's C library can run, `--python-version`, `--implementation cp`,
/// `--only-binary=:all:`), cached in the store's `python` cache directory under a
/// key that hashes the requirements, tags and Python version: unchanged
/// requirements never run pip again. A requirement published only as source
/// (pip refuses those with `--platform`) is built into a wheel on this machine
/// when it is pure Python (`HostWheels`) and installed from that for every platform.
struct PythonDependencies {
    let store: ContentStore
    let settings: PythonSettings
    let platform: Platform
    /// The base's C library (`BaseFacts`); nil when none was found.
    let cLibrary: CLibrary?

    static let cacheVersion = "gantry-python-v2"

    /// `python.platform` when given, else every tag the base's C library runs.
    var platformTags: [String] {
        if let tag = settings.platformTag { return [tag] }
        return PythonPlatformTags.tags(for: cLibrary ?? PythonPlatformTags.assumedGlibc, architecture: platform.architecture)
    }

    /// The tags as one line, for cache keys and messages.
    var platformTag: String { platformTags.joined(separator: " ") }

    /// How messages name the tags: the newest and, when several, the oldest.
    private var tagRange: String {
        let tags = platformTags
        return tags.count == 1 ? tags[0] : "\(tags[0]) … \(tags[tags.count - 1])"
    }

    /// The requirements file's bytes.
    func requirements() throws -> [UInt8] {
        if let locked = settings.locked { return Array(Self.lockedRequirements(locked).utf8) }
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
        var requirementsPath = settings.requirements
        let directory = try cachedDirectory()
        if FileManager.default.fileExists(atPath: directory) { return directory }
        // --locked: pip installs the locked files by their hashes, and nothing else (--no-deps).
        var lockedFlags: [String] = []
        if settings.locked != nil {
            requirementsPath = store.scratchPath(for: .python, suffix: ".txt")
            try AtomicFile.write(try requirements(), to: requirementsPath, durable: false)
            lockedFlags = ["--no-deps", "--require-hashes"]
        }
        defer { if settings.locked != nil { unlink(requirementsPath) } }

        let temp = "\(directory).tmp-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let hostWheels = HostWheels(store: store, platform: platform)
        var wheelDirectories: [String] = []
        while true {
            try? FileManager.default.removeItem(atPath: temp)
            var arguments = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--no-input",
                             "--target", temp, "--python-version", settings.version, "--implementation", "cp", "--only-binary=:all:"]
            for tag in platformTags { arguments += ["--platform", tag] }
            for wheels in wheelDirectories { arguments += ["--find-links", wheels] }
            let (status, errors) = try HostWheels.run("python3", arguments + lockedFlags + ["-r", requirementsPath])
            if status == 0 { break }
            // A source-only requirement: built here once when it is pure Python, then pip again.
            if let requirement = HostWheels.sourceOnlyRequirement(in: errors), let wheels = try hostWheels.build(requirement) {
                if !wheelDirectories.contains(wheels) {
                    wheelDirectories.append(wheels)
                    continue
                }
            }
            let reason = errors.split(separator: "\n").last(where: { $0.contains("ERROR") }).map(String.init)
                ?? errors.split(separator: "\n").last.map(String.init) ?? "pip exited with \(status)"
            throw Failure(.invalidInput, "python requirements \(requirementsPath) cannot be installed for \(platform) (\(tagRange), Python \(settings.version)): \(reason.trimmingWhitespace())")
        }
        // Checked before it enters the cache: a wrong-architecture install is never reused.
        try NativeFileCheck.verify(installed: temp, platform: platform, platformTag: tagRange)
        // Console scripts carry the build host's interpreter path in their shebang:
        // not reproducible, and wrong in the image. Run tools as `python3 -m name`.
        try? FileManager.default.removeItem(atPath: temp + "/bin")
        guard rename(temp, directory) == 0 || FileManager.default.fileExists(atPath: directory) else {
            throw SystemError.failure("store python packages in", path: directory)
        }
        return directory
    }
}
