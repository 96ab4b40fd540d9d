import ByteStreams
import Layering
import Diagnostics
import SystemSupport

/// The C library an image's binaries link against: decides which Python wheels
/// (manylinux for glibc, musllinux for musl, each with a minimum version) can run
/// in it.
public struct CLibrary: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case glibc, musl }
    public var family: Family
    public var major: Int
    public var minor: Int

    public init(family: Family, major: Int, minor: Int) {
        self.family = family
        self.major = major
        self.minor = minor
    }

    public var description: String { "\(family.rawValue) \(major).\(minor)" }
}

/// Reads a layer's tar once for what a build needs to know about a base: its C
/// library — glibc from `libc.so.6` (the banner "release version 2.N", else the
/// highest `GLIBC_2.N` symbol version it defines) or an older `libc-2.N.so`; musl
/// from its dynamic linker `ld-musl-ARCH.so.1`, its version from Alpine's package
/// database when the layer has it (musl's binary does not name its version where a
/// reader can rely on it) — and its package databases (`PackageDatabases`).
public enum CLibraryProbe {
    /// libc.so.6 is about 2 MiB; anything far larger is not the C library.
    static let libraryLimit = 32 << 20

    /// What one layer holds.
    public struct Findings: Sendable {
        public var library: CLibrary?
        /// The layer's package databases, by path (nil: the layer has none).
        public var packages: [OSPackage]?
        /// The ELF machine (`e_machine`) of its C library or dynamic linker: what
        /// the layer's binaries run on, when the layer has one.
        public var machine: UInt16?
    }

    /// The C library and OS packages of the layer at `path`.
    public static func scan(layer path: String, role: String) throws -> Findings {
        let reader = try TarReader(path: path, role: role)
        var muslSeen = false
        var apkMuslVersion: (Int, Int)?
        var library: CLibrary?
        var packages: [OSPackage]?
        var machine: UInt16?
        while let entry = try reader.nextEntry() {
            guard let name = TarReader.path(of: entry), TarReader.fileType(of: entry) == 0o100000 else { continue }
            let file = PathName.lastComponent(of: name)
            if file == "libc.so.6", library == nil {
                let bytes = try read(reader, limit: libraryLimit)
                if let (major, minor) = glibcVersion(inLibrary: bytes) { library = CLibrary(family: .glibc, major: major, minor: minor) }
                machine = machine ?? ELFMachine.machine(ofHeader: Array(bytes.prefix(20)))
            } else if library == nil, let version = legacyGlibcVersion(fileName: file) {
                library = CLibrary(family: .glibc, major: version.0, minor: version.1)
                if machine == nil { machine = ELFMachine.machine(ofHeader: try read(reader, limit: 20)) }
            } else if file.hasPrefix("ld-musl-") && file.hasSuffix(".so.1") {
                muslSeen = true
                if machine == nil { machine = ELFMachine.machine(ofHeader: try read(reader, limit: 20)) }
            } else if PackageDatabases.isDatabase(name) {
                let text = String(decoding: try read(reader, limit: 64 << 20), as: UTF8.self)
                if name == "lib/apk/db/installed" {
                    apkMuslVersion = muslVersion(inApkDatabase: Array(text.utf8))
                    packages = (packages ?? []) + PackageDatabases.apkPackages(text)
                } else {
                    packages = (packages ?? []) + PackageDatabases.dpkgPackages(text)
                }
            }
        }
        if library == nil, muslSeen {
            // musllinux_1_1 is the oldest tag: right for any musl when the version is unknown.
            let (major, minor) = apkMuslVersion ?? (1, 1)
            library = CLibrary(family: .musl, major: major, minor: minor)
        }
        return Findings(library: library, packages: packages?.sorted { ($0.name, $0.version) < ($1.name, $1.version) }, machine: machine)
    }

    private static func read(_ reader: TarReader, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try reader.readData { chunk in
            if bytes.count < limit { bytes.append(contentsOf: chunk.prefix(limit - bytes.count)) }
        }
        return bytes
    }

    /// glibc's version from the bytes of `libc.so.6`.
    static func glibcVersion(inLibrary bytes: [UInt8]) -> (Int, Int)? {
        if let banner = numbers(after: Array("release version ".utf8), in: bytes).first { return banner }
        // Every release since 2.1 defines the symbol versions of the releases before it.
        return numbers(after: Array("GLIBC_".utf8), in: bytes).max { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// `libc-2.31.so`: glibc before 2.34 named the library by its version.
    static func legacyGlibcVersion(fileName: String) -> (Int, Int)? {
        guard fileName.hasPrefix("libc-"), fileName.hasSuffix(".so") else { return nil }
        let parts = fileName.dropFirst(5).dropLast(3).split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    /// musl's version from Alpine's `lib/apk/db/installed` (`P:musl` then `V:1.2.4-r2`).
    static func muslVersion(inApkDatabase bytes: [UInt8]) -> (Int, Int)? {
        var inMusl = false
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            if line.hasPrefix("P:") { inMusl = line == "P:musl" }
            if inMusl, line.hasPrefix("V:") {
                let parts = line.dropFirst(2).split(whereSeparator: { $0 == "." || $0 == "-" })
                guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
                return (major, minor)
            }
        }
        return nil
    }

    /// Every `major.minor` written right after `prefix` in `bytes`, in order.
    static func numbers(after prefix: [UInt8], in bytes: [UInt8]) -> [(Int, Int)] {
        var found: [(Int, Int)] = []
        guard bytes.count > prefix.count else { return found }
        var index = 0
        let last = bytes.count - prefix.count
        while index <= last {
            guard bytes[index] == prefix[0], bytes[index..<(index + prefix.count)].elementsEqual(prefix) else {
                index += 1
                continue
            }
            var cursor = index + prefix.count
            func number() -> Int? {
                var value = 0, digits = 0
                while cursor < bytes.count, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39, digits < 4 {
                    value = value * 10 + Int(bytes[cursor] - 0x30)
                    cursor += 1
                    digits += 1
                }
                return digits == 0 ? nil : value
            }
            if let major = number(), cursor < bytes.count, bytes[cursor] == 0x2E {
                cursor += 1
                if let minor = number() { found.append((major, minor)) }
            }
            index += prefix.count
        }
        return found
    }
}
