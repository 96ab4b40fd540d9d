import Glibc

/// The machine an ELF file (a shared library, an executable) is built for, from
/// its header's `e_machine`: what tells an x86-64 wheel's `.so` from an AArch64
/// one without running anything.
public enum ELFMachine {
    /// `e_machine` of the file at `path`; nil when it is not an ELF file (or
    /// cannot be read, or is shorter than a header's first 20 bytes).
    public static func machine(ofFileAt path: String) -> UInt16? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 20)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 20, 0) }
        guard got == 20 else { return nil }
        return machine(ofHeader: header)
    }

    /// `e_machine` from a header's first 20 bytes (magic, class, byte order at 5, machine at 18).
    public static func machine(ofHeader header: [UInt8]) -> UInt16? {
        guard header.count >= 20, header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46 else { return nil }
        switch header[5] {
        case 1: return UInt16(header[18]) | UInt16(header[19]) << 8  // little-endian
        case 2: return UInt16(header[18]) << 8 | UInt16(header[19])  // big-endian
        default: return nil
        }
    }

    /// OCI architectures and their `e_machine`.
    private static let machines: [String: UInt16] = ["amd64": 62, "arm64": 183, "arm": 40, "386": 3, "ppc64le": 21, "s390x": 22, "riscv64": 243]

    /// The `e_machine` of an OCI architecture (`amd64` → EM_X86_64); nil for one gantry does not know.
    public static func expected(forArchitecture architecture: String) -> UInt16? {
        machines[architecture]
    }

    /// The OCI architecture of `machine` (EM_AARCH64 → `arm64`); nil for one gantry does not know.
    public static func architecture(of machine: UInt16) -> String? {
        machines.first { $0.value == machine }?.key
    }

    /// A name people know for `machine`.
    public static func name(_ machine: UInt16) -> String {
        [62: "x86-64", 183: "AArch64", 40: "ARM", 3: "x86 (32-bit)", 21: "PowerPC 64", 22: "s390x", 243: "RISC-V"][machine]
            ?? "machine \(machine)"
    }
}
