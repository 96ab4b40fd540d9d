import Foundation
import Testing
@testable import ImageContents
import Layering
import TestTools

@Suite struct CLibraryProbeTests {
    @Test func glibcComesFromTheBannerElseTheNewestSymbolVersion() {
        let banner = Array("\0GLIBC_2.2.5\0GLIBC_2.34\0GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\0".utf8)
        #expect(CLibraryProbe.glibcVersion(inLibrary: banner).map { [$0.0, $0.1] } == [2, 36])
        let symbols = Array("\0GLIBC_2.2.5\0GLIBC_2.17\0GLIBC_2.28\0GLIBC_PRIVATE\0GLIBC_2.3.4\0".utf8)
        #expect(CLibraryProbe.glibcVersion(inLibrary: symbols).map { [$0.0, $0.1] } == [2, 28])
        #expect(CLibraryProbe.glibcVersion(inLibrary: Array("no version here GLIBC_".utf8)) == nil)
    }

    @Test func olderGlibcAndMuslAreReadFromNamesAndAlpinesDatabase() {
        #expect(CLibraryProbe.legacyGlibcVersion(fileName: "libc-2.31.so").map { [$0.0, $0.1] } == [2, 31])
        #expect(CLibraryProbe.legacyGlibcVersion(fileName: "libc-client.so") == nil)
        let apk = Array("P:busybox\nV:1.36.1-r5\n\nP:musl\nV:1.2.4-r2\nA:x86_64\n".utf8)
        #expect(CLibraryProbe.muslVersion(inApkDatabase: apk).map { [$0.0, $0.1] } == [1, 2])
        #expect(CLibraryProbe.muslVersion(inApkDatabase: Array("P:busybox\nV:1.36.1-r5\n".utf8)) == nil)
    }

    /// Layers written by tar (not gantry): the library is found by its file, in any directory.
    @Test func findsTheLibraryInALayerTarball() throws {
        let directory = try TemporaryDirectory()
        try directory.write("root/usr/lib/aarch64-linux-gnu/libc.so.6", "ELF...GLIBC_2.17\0GLIBC_2.34\0")
        try directory.write("root/etc/hostname", "x\n")
        let layer = directory.path + "/layer.tar.gz"
        #expect(try run("tar", ["-czf", layer, "-C", directory.path + "/root", "."]).status == 0)
        #expect(try CLibraryProbe.scan(layer: layer, role: "layer").library == CLibrary(family: .glibc, major: 2, minor: 34))

        try directory.write("musl/lib/ld-musl-x86_64.so.1", "ELF")
        try directory.write("musl/lib/apk/db/installed", "P:musl\nV:1.2.5-r0\n")
        let musl = directory.path + "/musl.tar"
        #expect(try run("tar", ["-cf", musl, "-C", directory.path + "/musl", "."]).status == 0)
        #expect(try CLibraryProbe.scan(layer: musl, role: "layer").library == CLibrary(family: .musl, major: 1, minor: 2))

        let empty = directory.path + "/none.tar"
        #expect(try run("tar", ["-cf", empty, "-C", directory.path + "/root", "etc"]).status == 0)
        #expect(try CLibraryProbe.scan(layer: empty, role: "layer").library == nil)
    }
}
