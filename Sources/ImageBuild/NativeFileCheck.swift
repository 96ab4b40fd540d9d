import FoundationEssentials
import Glibc
import OCI
import Layering
import ImageContents
import ByteStreams
import Diagnostics

/// Every native file pip installed for the image (each `.so` and executable, by
/// its ELF header) must be built for the image's architecture: a wheel for the
/// wrong one (a `python.platform` tag that does not match, a mislabelled wheel)
/// would build fine and fail only when the container imports it. The error names
/// the package (from the `.dist-info/RECORD` that lists the file) and the file.
enum NativeFileCheck {
    static func verify(installed directory: String, platform: Platform, platformTag: String) throws {
        guard let wanted = ELFMachine.expected(forArchitecture: platform.architecture) else { return }
        let files = ((try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? []).sorted()
        var owners: [String: String]?
        for file in files {
            let path = directory + "/" + file
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 20,
                  let machine = ELFMachine.machine(ofFileAt: path), machine != wanted else { continue }
            if owners == nil { owners = packageOwners(in: directory, files: files) }
            let package = owners?[file] ?? String(file.split(separator: "/").first ?? Substring(file))
            throw Failure(.invalidInput, "python package \(package): \(file) is built for \(ELFMachine.name(machine)), but the image is \(platform) (\(ELFMachine.name(wanted))); pip installed it for the platform tag \(platformTag): check 'python.platform' in gantry.yaml")
        }
    }

    /// Installed file → "name version", from each `NAME-VERSION.dist-info/RECORD`.
    static func packageOwners(in directory: String, files: [String]) -> [String: String] {
        var owners: [String: String] = [:]
        for record in files where record.hasSuffix(".dist-info/RECORD") && record.split(separator: "/").count == 2 {
            let distInfo = String(record.split(separator: "/")[0].dropLast(".dist-info".count))
            let package = distInfo.split(separator: "-", maxSplits: 1).joined(separator: " ")
            guard let bytes = try? FileReader.readSmallFile(directory + "/" + record, limit: 16 << 20) else { continue }
            // pip writes RECORD with CSV's CRLF line ends: "\r\n" is one Character, so split on any newline.
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                // path,hash,size — a path with a comma is quoted (CSV); those are rare enough to name by directory.
                guard let comma = line.firstIndex(of: ","), !line.hasPrefix("\"") else { continue }
                owners[String(line[..<comma])] = package
            }
        }
        return owners
    }
}
