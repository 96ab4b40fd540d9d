import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import SystemSupport

/// Wheels built on this machine for requirements published only as source: pip
/// installs nothing but wheels for another platform, and a pure-Python package's
/// wheel (`py3-none-any`) is the same for every platform, so it is built once here
/// (`pip wheel --no-deps`) and kept in the store's python cache by the requirement's
/// text. A source package that compiles native code cannot be built for another
/// platform without its compilers: that is an error naming it.
struct HostWheels {
    let store: ContentStore
    /// The platform being installed for, for messages.
    let platform: Platform

    /// The requirement pip could find no wheel for, from its "No matching
    /// distribution found for NAME==1.0" line.
    static func sourceOnlyRequirement(in errors: String) -> String? {
        let marker = "No matching distribution found for "
        guard let line = errors.split(whereSeparator: \.isNewline).last(where: { $0.contains(marker) }),
              let range = line.firstRange(of: marker) else { return nil }
        let requirement = line[range.upperBound...].trimmingWhitespace()
        return requirement.isEmpty ? nil : requirement
    }

    /// The directory holding `requirement`'s pure-Python wheel, built on first use;
    /// nil when pip finds no release of it at all (a typo, a version that does not
    /// exist): then pip's own error is the one to show.
    func build(_ requirement: String) throws -> String? {
        let key = "wheel-" + SHA256Hasher.hash(Array("gantry-host-wheel-v1\n\(requirement)".utf8)).hex
        let directory = try store.cacheDirectory(in: .python, key: key)
        if FileManager.default.fileExists(atPath: directory) { return directory }
        // Unique per call: two platforms of one build may ask for the same wheel at once.
        let temp = "\(directory).tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.removeItem(atPath: temp)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let (status, errors) = try Self.run("python3", ["-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-input",
                                                        "--no-deps", "--wheel-dir", temp, requirement])
        guard status == 0 else {
            if Self.sourceOnlyRequirement(in: errors) != nil { return nil }
            let reason = errors.split(whereSeparator: \.isNewline).last(where: { $0.contains("ERROR") || $0.contains("error") })
                .map { String($0).trimmingWhitespace() } ?? "pip wheel exited with \(status)"
            throw Failure(.invalidInput, "python package \(requirement) has no wheel for \(platform) and building one from its source on this machine failed (\(reason)); use a version that publishes wheels for \(platform)")
        }
        let wheels = ((try? FileManager.default.contentsOfDirectory(atPath: temp)) ?? []).filter { $0.hasSuffix(".whl") }
        if let native = wheels.first(where: { !$0.hasSuffix("-none-any.whl") }) {
            throw Failure(.invalidInput, "python package \(requirement) has no wheel for \(platform); what pip builds of it on this machine is native code (\(native)), which gantry cannot make for another platform; use a version that publishes wheels for \(platform)")
        }
        guard !wheels.isEmpty else {
            throw Failure(.invalidInput, "python package \(requirement) has no wheel for \(platform), and pip wheel built none from its source; use a version that publishes wheels")
        }
        guard rename(temp, directory) == 0 || FileManager.default.fileExists(atPath: directory) else {
            throw SystemError.failure("store the wheel of \(requirement) in", path: directory)
        }
        return directory
    }

    /// Runs pip (or another tool) with its output discarded; returns its status and standard error.
    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
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
