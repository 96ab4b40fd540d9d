import Foundation
import Testing
import OCI
@testable import ImageContents
import Layering
import TestTools

@Suite struct ELFMachineTests {
    /// A header's first 20 bytes: magic, class 64-bit, the byte order, and `machine` at 18.
    func header(machine: UInt16, bigEndian: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1] + [UInt8](repeating: 0, count: 13)
        bytes[18] = UInt8(bigEndian ? machine >> 8 : machine & 0xff)
        bytes[19] = UInt8(bigEndian ? machine & 0xff : machine >> 8)
        return bytes
    }

    @Test func headersAreReadInTheirOwnByteOrder() {
        #expect(ELFMachine.machine(ofHeader: header(machine: 183)) == 183)
        #expect(ELFMachine.machine(ofHeader: header(machine: 22, bigEndian: true)) == 22)
        #expect(ELFMachine.machine(ofHeader: Array("#!/bin/sh\necho not elf\n".utf8)) == nil)
        #expect(ELFMachine.machine(ofHeader: [0x7f, 0x45, 0x4c, 0x46]) == nil)
    }

    @Test func thisMachinesOwnProgramsMatchItsArchitecture() throws {
        let expected = try #require(ELFMachine.expected(forArchitecture: Platform.host.architecture))
        #expect(ELFMachine.machine(ofFileAt: "/bin/sh") == expected || ELFMachine.machine(ofFileAt: "/usr/bin/env") == expected)
        #expect(ELFMachine.machine(ofFileAt: "/etc/passwd") == nil)
        #expect(ELFMachine.name(183) == "AArch64" && ELFMachine.name(62) == "x86-64")
    }
}
