import FoundationEssentials
import Glibc
import Locking
import ByteStreams
import Diagnostics

/// What pip would install for a platform, without installing it: `pip install
/// --dry-run --report` with the flags the dependencies layer uses (pip 22.2 or
/// newer) → each distribution's name, version, URL and SHA-256, for gantry.lock.
/// A locked build then installs exactly these files (`lockedRequirements`).
extension PythonDependencies {
    func resolve() throws -> [LockFile.PythonDistribution] {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var arguments = ["-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--disable-pip-version-check", "--no-input",
                         "--report", scratch + "/report.json", "--target", scratch + "/never",
                         "--python-version", settings.version, "--implementation", "cp", "--only-binary=:all:"]
        for tag in platformTags { arguments += ["--platform", tag] }
        let (status, errors) = try HostWheels.run("python3", arguments + ["-r", settings.requirements])
        guard status == 0 else {
            let reason = errors.split(separator: "\n").last(where: { $0.contains("ERROR") }).map(String.init) ?? "pip exited with \(status)"
            if errors.contains("no such option: --report") {
                throw Failure(.missingInput, "the build machine's pip cannot report a resolution (pip 22.2 or newer needed for gantry lock); upgrade pip")
            }
            throw Failure(.invalidInput, "python requirements \(settings.requirements) cannot be resolved for \(platform) (Python \(settings.version)): \(reason.trimmingWhitespace())")
        }
        return try Self.distributions(inReport: try FileReader.readSmallFile(scratch + "/report.json", limit: 256 << 20), requirements: settings.requirements)
    }

    /// pip's installation report (format 1) → the locked distributions, sorted by name.
    static func distributions(inReport bytes: [UInt8], requirements: String) throws -> [LockFile.PythonDistribution] {
        struct Report: Decodable {
            struct Item: Decodable {
                struct DownloadInfo: Decodable {
                    struct ArchiveInfo: Decodable { var hashes: [String: String]?; var hash: String? }
                    var url: String
                    var archive_info: ArchiveInfo?
                }
                struct Metadata: Decodable { var name: String; var version: String }
                var download_info: DownloadInfo
                var metadata: Metadata
            }
            var version: String
            var install: [Item]
        }
        let report: Report
        do { report = try JSONDecoder().decode(Report.self, from: Data(bytes)) } catch {
            throw Failure(.invalidInput, "pip's resolution report for \(requirements) cannot be read (\(error)); check the build machine's pip")
        }
        return try report.install.map { item in
            let archive = item.download_info.archive_info
            guard let sha256 = archive?.hashes?["sha256"] ?? archive?.hash.flatMap({ $0.hasPrefix("sha256=") ? String($0.dropFirst(7)) : nil }) else {
                throw Failure(.invalidInput, "\(item.metadata.name) \(item.metadata.version) in \(requirements) comes from \(item.download_info.url), which has no SHA-256 to lock; require it from an index")
            }
            return LockFile.PythonDistribution(name: item.metadata.name, version: item.metadata.version, url: item.download_info.url, sha256: sha256)
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// A requirements file that installs exactly the locked files: `name==version
    /// --hash=sha256:…` per distribution, for `pip install --no-deps --require-hashes`.
    static func lockedRequirements(_ distributions: [LockFile.PythonDistribution]) -> String {
        distributions.map { "\($0.name)==\($0.version) --hash=sha256:\($0.sha256)" }.joined(separator: "\n") + "\n"
    }

    private func makeScratchDirectory() throws -> String {
        let path = store.scratchPath(for: .python)
        guard mkdir(path, 0o700) == 0 else { throw SystemError.failure("create directory", path: path) }
        return path
    }
}
