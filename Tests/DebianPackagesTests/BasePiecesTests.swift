import Testing
import FoundationEssentials
import Glibc
import Layering
import ByteStreams
@testable import DebianPackages

/// The pieces that read a base and place packages on it: layers with whiteouts
/// and merged-/usr symlinks, maintainer scripts, Release files and armored keys.
@Suite struct BasePiecesTests {
    /// A tar layer at a temporary path: entries are (path, file text | "->target" | "/" for a directory).
    static func layer(_ entries: [(String, String)]) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/debian-base-\(UInt32.random(in: 0...UInt32.max)).tar"
        let sink = try FileDescriptorSink(creating: path, describedAs: path)
        let tar = try TarWriter(sink: sink)
        for (name, content) in entries {
            if content == "/" {
                try tar.writeHeader(path: name, type: .directory, size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0)
            } else if content.hasPrefix("->") {
                try tar.writeHeader(path: name, type: .symlink(String(content.dropFirst(2))), size: 0, mode: 0o777, uid: 0, gid: 0, mtime: 0)
            } else {
                let bytes = Array(content.utf8)
                try tar.writeHeader(path: name, type: .regular, size: Int64(bytes.count), mode: 0o644, uid: 0, gid: 0, mtime: 0)
                try bytes.withUnsafeBytes { try tar.writeData($0) }
            }
        }
        try tar.finish()
        try sink.close()
        return path
    }

    @Test func aBaseIsReadBottomUpWithWhiteouts() throws {
        let lower = try Self.layer([
            ("lib", "->usr/lib"), ("bin", "->usr/bin"), ("etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\n"),
            ("etc/apt/sources.list.d/extra.list", "deb http://extra/ x main\n"),
            ("var/lib/dpkg/status", "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n"),
            ("usr/share/keyrings/debian-archive-keyring.gpg", "KEY"),
        ])
        let upper = try Self.layer([
            ("etc/apt/sources.list.d/.wh.extra.list", ""),
            ("etc/apt/sources.list.d/debian.sources", "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
            ("bin", "/"),  // a directory over the symlink: the symlink is gone
        ])
        defer { unlink(lower); unlink(upper) }
        let system = try BaseSystem.read(layers: [(lower, "lower"), (upper, "upper")])
        #expect(system.symlinks == ["lib": "usr/lib"])
        #expect(system.sources.map(\.description) == ["http://deb.debian.org/debian bookworm main", "http://deb.debian.org/debian bookworm-updates main"])
        #expect(system.installed.map(\.label) == ["libc6=2.36-9"])
        #expect(try system.keys(for: system.sources[1]).map(\.name) == ["/usr/share/keyrings/debian-archive-keyring.gpg"])
        let unsigned = AptSource(uri: "http://x", suite: "y", components: ["main"], signedBy: "/usr/share/keyrings/missing.gpg")
        #expect { try system.keys(for: unsigned) } throws: { "\($0)".contains("which the base does not have") }
    }

    @Test func pathsFollowTheBasesDirectorySymlinks() {
        let tree = PackageTree(baseSymlinks: ["lib": "usr/lib", "var/run": "/run", "usr/lib/x": "../../opt/x", "loop": "loop"], scratch: "/tmp")
        #expect(tree.resolve("lib/x86_64-linux-gnu/libz.so.1") == "usr/lib/x86_64-linux-gnu/libz.so.1")
        #expect(tree.resolve("var/run/nginx.pid") == "run/nginx.pid")
        #expect(tree.resolve("lib/x/file") == "opt/x/file")
        #expect(tree.resolve("lib") == "lib")  // the last component is the entry itself
        #expect(tree.resolve("loop/a") == "loop/a")  // stops after 16 hops
        #expect(PackageTree.trimmed("./usr/bin/") == "usr/bin")
    }

    @Test func alternativesAreReadFromLiteralScriptLines() {
        let postinst = """
        #!/bin/sh
        set -e
        if [ "$1" = configure ]; then
            update-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\
                                libblas.so.3-x86_64-linux-gnu \\
                                /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10
            update-alternatives --install /usr/bin/editor editor "$DIR/vim" 20
            adduser --system --group www-data
        fi
        """
        let scripts = MaintainerScripts(control: DebArchive.Control(control: "Package: x\n", files: ["postinst": postinst, "triggers": "activate-noawait ldconfig\ninterest /usr/share/icons\n"]))
        #expect(scripts.alternatives == [MaintainerScripts.Alternative(link: "/usr/lib/x86_64-linux-gnu/libblas.so.3", name: "libblas.so.3-x86_64-linux-gnu",
                                                                      path: "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", priority: 10, slaves: [])])
        #expect(scripts.notDone.contains { $0.contains("users or groups") })
        #expect(scripts.notDone.contains { $0.contains("alternatives gantry cannot read literally") })
        #expect(scripts.notDone.contains { $0.contains("interest /usr/share/icons") })
        #expect(!scripts.notDone.contains { $0.contains("ldconfig") })
    }

    @Test func releaseFilesListTheirIndexesAndExpire() throws {
        let text = """
        Origin: Debian
        Date: Sat, 07 Oct 2023 09:48:58 UTC
        Valid-Until: Sat, 14 Oct 2023 09:48:58 UTC
        Acquire-By-Hash: yes
        SHA256:
         \(String(repeating: "a", count: 64)) 1234 main/binary-amd64/Packages.xz
         \(String(repeating: "b", count: 64))   99 main/binary-amd64/Release
        """
        let release = try ReleaseFile(text: text, describedAs: "InRelease")
        #expect(release.acquireByHash)
        #expect(release.files["main/binary-amd64/Packages.xz"]?.size == 1234)
        #expect(release.validUntil == Date(timeIntervalSince1970: 1_697_276_938))
        #expect(throws: (any Error).self) { try ReleaseFile(text: "Origin: x\n", describedAs: "InRelease") }
    }

    @Test func armoredKeysAreDearmored() throws {
        // Armor headers before the blank line are skipped; body lines are one base64 stream.
        let body = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: test\n\naGVsbG8g\nd29ybGQ=\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"
        #expect(try ReleaseSignature.dearmored(Array(body.utf8), name: "k") == Array("hello world".utf8))
        #expect(try ReleaseSignature.dearmored([0x99, 0x01], name: "k") == [0x99, 0x01])
        #expect(throws: (any Error).self) { try ReleaseSignature.dearmored(Array("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP".utf8), name: "k") }
    }
}
