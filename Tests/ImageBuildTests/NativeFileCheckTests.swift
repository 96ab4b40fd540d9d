import Foundation
import Testing
import OCI
@testable import ImageBuild

/// A pip --target directory made by hand: a package whose extension module is
/// built for AArch64, its RECORD naming the file.
@Suite struct NativeFileCheckTests {
    func installed(machine: UInt16) throws -> String {
        let directory = NSTemporaryDirectory() + "gantry-native-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/fastmath/_ext", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/fastmath-1.2.dist-info", withIntermediateDirectories: true)
        var elf: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1] + [UInt8](repeating: 0, count: 57)
        elf[18] = UInt8(machine & 0xff); elf[19] = UInt8(machine >> 8)
        try Data(elf).write(to: URL(fileURLWithPath: directory + "/fastmath/_ext/core.cpython-311.so"))
        try "print('pure')\n".write(toFile: directory + "/fastmath/__init__.py", atomically: false, encoding: .utf8)
        // CRLF line ends, as pip writes RECORD.
        try "fastmath/__init__.py,sha256=x,15\r\nfastmath/_ext/core.cpython-311.so,sha256=y,64\r\nfastmath-1.2.dist-info/RECORD,,\r\n"
            .write(toFile: directory + "/fastmath-1.2.dist-info/RECORD", atomically: false, encoding: .utf8)
        return directory
    }

    @Test func aLibraryForAnotherArchitectureFailsNamingPackageAndFile() throws {
        let directory = try installed(machine: 183)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try NativeFileCheck.verify(installed: directory, platform: Platform(os: "linux", architecture: "amd64"),
                                       platformTag: "manylinux_2_28_aarch64")
            Issue.record("no error for an AArch64 library in an amd64 image")
        } catch {
            #expect("\(error)".contains("python package fastmath 1.2: fastmath/_ext/core.cpython-311.so is built for AArch64, but the image is linux/amd64"))
            #expect("\(error)".contains("manylinux_2_28_aarch64"))
        }
    }

    @Test func matchingLibrariesAndPurePythonPass() throws {
        let directory = try installed(machine: 183)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try NativeFileCheck.verify(installed: directory, platform: Platform(os: "linux", architecture: "arm64"),
                                   platformTag: "manylinux_2_28_aarch64")
    }
}
