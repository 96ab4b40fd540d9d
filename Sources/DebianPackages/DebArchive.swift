import FoundationEssentials
import Glibc
import CArchive
import ByteStreams
import Layering
import Diagnostics

/// A `.deb`: an `ar` archive of `debian-binary`, `control.tar.*` and `data.tar.*`
/// (gz, xz, zst or bz2), read with libarchive. The control members are small and
/// read whole; the data member is copied to a scratch file and read as a tar
/// (through `TarReader`, which refuses absolute and climbing names).
public struct DebArchive {
    public let path: String
    /// How messages name it, e.g. `nginx_1.22.1-9_amd64.deb`.
    public let name: String

    public init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    /// What a package's control member holds that gantry uses.
    public struct Control: Sendable {
        /// The `control` file's text: the package's stanza, written to `status.d/NAME`.
        public var control: String
        /// `md5sums`, `conffiles`, the maintainer scripts and `triggers`, by name.
        public var files: [String: String]
    }

    /// Reads the control member and copies the data member to `dataPath`.
    public func unpack(dataTo dataPath: String) throws -> Control {
        let reader = try TarReader(path: path, role: "package \(name)")
        var control: Control?
        var version: String?
        var sawData = false
        while let entry = try reader.nextEntry() {
            let member = TarReader.path(of: entry) ?? ""
            if member == "debian-binary" {
                version = String(decoding: try Self.read(reader, limit: 64), as: UTF8.self).trimmingSpaces
            } else if member.hasPrefix("control.tar") {
                control = try Self.control(from: try Self.read(reader, limit: 16 << 20), deb: name)
            } else if member.hasPrefix("data.tar") {
                let sink = try FileDescriptorSink(creating: dataPath, exclusive: true, describedAs: dataPath)
                try reader.readData { try sink.write($0) }
                try sink.close()
                sawData = true
            }
        }
        guard version?.hasPrefix("2.") == true else {
            throw Failure(.invalidInput, "package \(name) is not a Debian binary package (debian-binary: \(version ?? "missing")); the repository's file is wrong")
        }
        guard let control, sawData else {
            throw Failure(.invalidInput, "package \(name) has no \(control == nil ? "control" : "data") member; the repository's file is wrong")
        }
        return control
    }

    private static func read(_ reader: TarReader, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try reader.readData { chunk in
            guard bytes.count + chunk.count <= limit else {
                throw Failure(.invalidInput, "a member of a package is larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// The small files of a `control.tar.*` held in memory.
    static func control(from bytes: [UInt8], deb: String) throws -> Control {
        // archive_read_new only fails when malloc does.
        let archive = archive_read_new()!
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        var files: [String: String] = [:]
        let status = bytes.withUnsafeBytes { buffer -> Int32 in
            guard archive_read_open_memory(archive, buffer.baseAddress, buffer.count) == ARCHIVE_OK else { return -1 }
            var entry: OpaquePointer?
            while archive_read_next_header(archive, &entry) == ARCHIVE_OK, let entry {
                let name = TarReader.path(of: entry) ?? ""
                guard TarReader.fileType(of: entry) == 0o100000, !name.contains("/") else { continue }
                var content: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let got = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
                    if got == 0 { break }
                    guard got > 0 else { return -1 }
                    content.append(contentsOf: chunk[0..<got])
                }
                files[name] = String(decoding: content, as: UTF8.self)
            }
            return 0
        }
        guard status == 0, let control = files.removeValue(forKey: "control") else {
            throw Failure(.invalidInput, "package \(deb) has an unreadable control member; the repository's file is wrong")
        }
        return Control(control: control.hasSuffix("\n") ? control : control + "\n", files: files)
    }
}
