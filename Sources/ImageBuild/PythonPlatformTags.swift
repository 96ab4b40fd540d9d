import OCI
import Layering
import ImageContents

/// The pip platform tags (`--platform`, repeated) for an image: every manylinux
/// tag the base's glibc can run, newest first (`manylinux_2_36` … `manylinux_2_17`
/// and the legacy names pip still knows: `manylinux2014`, `manylinux2010`,
/// `manylinux1`), or every musllinux tag for a musl base. pip does not widen a
/// `manylinux_2_N` tag by itself: given only `manylinux_2_28` it refuses a package
/// whose wheels say `manylinux_2_17` (MarkupSafe, numpy …), so all are listed.
enum PythonPlatformTags {
    /// The oldest glibc a base is assumed to have when none is found in it.
    static let assumedGlibc = CLibrary(family: .glibc, major: 2, minor: 17)

    /// pip's machine names (`uname -m`) for OCI architectures.
    static func machine(forArchitecture architecture: String) -> String {
        ["amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"][architecture] ?? architecture
    }

    static func tags(for library: CLibrary, architecture: String) -> [String] {
        let machine = machine(forArchitecture: architecture)
        switch library.family {
        case .musl:
            // musllinux_1_1 is the first musllinux tag (PEP 656).
            guard library.major == 1, library.minor >= 1 else { return ["musllinux_1_1_\(machine)"] }
            return stride(from: library.minor, through: 1, by: -1).map { "musllinux_1_\($0)_\(machine)" }
        case .glibc:
            guard library.major == 2 else { return ["manylinux_\(library.major)_\(library.minor)_\(machine)"] }
            var tags = stride(from: library.minor, through: 5, by: -1).map { "manylinux_2_\($0)_\(machine)" }
            // PEP 600's aliases; pip matches them as written.
            if library.minor >= 17 { tags.append("manylinux2014_\(machine)") }
            if library.minor >= 12, ["x86_64", "i686"].contains(machine) { tags.append("manylinux2010_\(machine)") }
            if library.minor >= 5, ["x86_64", "i686"].contains(machine) { tags.append("manylinux1_\(machine)") }
            return tags
        }
    }
}
