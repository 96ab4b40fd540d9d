import Foundation
import Testing
import Diagnostics
@testable import Layering
import TestTools

/// Layers are written by Python's tarfile (a tool gantry did not write), which
/// also writes what a hostile layer would: links out of the root, names with `..`.
@Suite struct LayerUnpackerTests {
    /// Writes a tar at `path` from entries "KIND NAME [TARGET|TEXT] [MODE]", in the order given.
    /// KIND: f (file), d (directory), l (symlink), h (hard link), p (FIFO).
    func tar(_ path: String, gzip: Bool = false, _ entries: [String]) throws {
        let script = """
        from io import BytesIO; import sys, tarfile  # (a line starting 'import' would read as a Swift import to check-imports)
        path, gz, entries = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
        with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as out:
            for line in entries:
                parts = line.split(" ")
                kind, name = parts[0], parts[1]
                info = tarfile.TarInfo(name)
                info.mode = int(parts[3], 8) if len(parts) > 3 else 0o644
                data = None
                if kind == "f":
                    data = (parts[2] if len(parts) > 2 else name).encode()
                    info.size = len(data)
                elif kind == "d": info.type = tarfile.DIRTYPE; info.mode = 0o755
                elif kind == "l": info.type = tarfile.SYMTYPE; info.linkname = parts[2]
                elif kind == "h": info.type = tarfile.LNKTYPE; info.linkname = parts[2]
                elif kind == "p": info.type = tarfile.FIFOTYPE
                out.addfile(info, BytesIO(data) if data is not None else None)
        """
        let (status, _) = try run("python3", ["-c", script, path, gzip ? "1" : "0"] + entries)
        try #require(status == 0)
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test func whiteoutsRemoveAndOpaqueMarkersEmptyWhatLowerLayersMade() throws {
        let dir = try TemporaryDirectory()
        try tar(dir.path + "/1.tar", ["d a", "f a/b", "f a/c", "d d", "f d/e", "d d/g", "f d/g/h"])
        try tar(dir.path + "/2.tar", gzip: true, ["f a/.wh.b", "f a/.wh.", "d d", "f d/-early", "f d/.wh..wh..opq", "f d/f", "f .wh.missing"])
        let unpacker = try LayerUnpacker(root: dir.path + "/rootfs")
        try unpacker.apply(layer: dir.path + "/1.tar", role: "layer 1")
        try unpacker.apply(layer: dir.path + "/2.tar", role: "layer 2")
        let root = dir.path + "/rootfs"
        #expect(!exists(root + "/a/b") && text(root + "/a/c") == "a/c")  // a bare ".wh." hides nothing, not a itself
        #expect(!exists(root + "/d/e") && !exists(root + "/d/g"))
        #expect(text(root + "/d/f") == "d/f" && text(root + "/d/-early") == "d/-early")  // this layer's own entries stay
        #expect(!exists(root + "/a/.wh.b") && !exists(root + "/d/.wh..wh..opq"))
    }

    /// Times come from the tar (Python trusts a .pyc only while its source keeps the
    /// recorded time), directories' too although entries are made inside them after;
    /// as root, set-user-ID bits survive the change of owner.
    @Test func timesAndSetUserIDBitsAreKept() throws {
        let dir = try TemporaryDirectory()
        try tar(dir.path + "/1.tar", ["d usr", "d usr/bin", "f usr/bin/su x 4755", "l usr/bin/sudo su", "f usr/lib.py x 644"])
        try LayerUnpacker(root: dir.path + "/rootfs").apply(layer: dir.path + "/1.tar", role: "layer 1")
        for path in ["/usr", "/usr/bin", "/usr/bin/su", "/usr/bin/sudo", "/usr/lib.py"] {
            var info = stat()
            #expect(lstat(dir.path + "/rootfs" + path, &info) == 0 && info.st_mtim.tv_sec == 0, "mtime of \(path)")
        }
        if geteuid() == 0 {
            var info = stat()
            #expect(stat(dir.path + "/rootfs/usr/bin/su", &info) == 0 && info.st_mode & 0o7777 == 0o4755)
        }
    }

    /// For an overlay lower directory (root only): whiteouts become 0/0 character
    /// devices, an opaque marker the trusted.overlay.opaque attribute, and nothing is removed.
    @Test(.enabled(if: geteuid() == 0)) func overlayWhiteoutsAreRecordedNotApplied() throws {
        let dir = try TemporaryDirectory()
        try tar(dir.path + "/1.tar", ["d a", "f a/.wh.gone", "d o", "f o/.wh..wh..opq", "f o/kept"])
        try LayerUnpacker(root: dir.path + "/rootfs", whiteouts: .overlay).apply(layer: dir.path + "/1.tar", role: "layer 1")
        var info = stat()
        #expect(lstat(dir.path + "/rootfs/a/gone", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0)
        let (status, opaque) = try run("python3", ["-c", "import os, sys; print(os.getxattr(sys.argv[1], 'trusted.overlay.opaque').decode())",
                                                   dir.path + "/rootfs/o"])
        #expect(status == 0 && String(decoding: opaque, as: UTF8.self) == "y\n")
        #expect(text(dir.path + "/rootfs/o/kept") == "o/kept")
    }

    /// A lower layer's symlinks (absolute, or climbing with ..) resolve inside the
    /// root, as in the container: a later layer writing through them stays inside.
    @Test func symlinkedParentsNeverLeadOutOfTheRoot() throws {
        let dir = try TemporaryDirectory()
        let outside = dir.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try tar(dir.path + "/1.tar", ["l evil \(outside)", "l up ../../../../..", "f x secret", "l passwd /etc/passwd"])
        try tar(dir.path + "/2.tar", ["f evil/pwned", "f up/escaped", "h evil/linked x", "f passwd replaced"])
        let unpacker = try LayerUnpacker(root: dir.path + "/rootfs")
        try unpacker.apply(layer: dir.path + "/1.tar", role: "layer 1")
        try unpacker.apply(layer: dir.path + "/2.tar", role: "layer 2")
        let root = dir.path + "/rootfs"
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(text(root + outside + "/pwned") == "evil/pwned")   // the symlink's target, inside the root
        #expect(text(root + "/escaped") == "up/escaped")           // .. stops at the root
        #expect(text(root + outside + "/linked") == "secret")
        #expect(text(root + "/passwd") == "replaced")               // the symlink was replaced, /etc/passwd untouched
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/evil") == outside)
    }

    @Test func hardLinksModesAndSpecialFiles() throws {
        let dir = try TemporaryDirectory()
        try tar(dir.path + "/1.tar", ["f bin/run hello 755", "f etc/key k 600", "h bin/again bin/run", "p dev/fifo"])
        let unpacker = try LayerUnpacker(root: dir.path + "/rootfs")
        let skipped = try unpacker.apply(layer: dir.path + "/1.tar", role: "layer 1")
        let root = dir.path + "/rootfs"
        let run = try FileManager.default.attributesOfItem(atPath: root + "/bin/run")
        let again = try FileManager.default.attributesOfItem(atPath: root + "/bin/again")
        #expect((run[.systemFileNumber] as? Int) == (again[.systemFileNumber] as? Int))
        #expect((run[.posixPermissions] as? Int) == 0o755)
        #expect((try FileManager.default.attributesOfItem(atPath: root + "/etc/key")[.posixPermissions] as? Int) == 0o600)
        #expect(skipped.specialFiles == 1 && !exists(root + "/dev/fifo"))
    }

    @Test(arguments: ["f ../escape", "f /etc/escape", "h a ../../etc/passwd"])
    func namesThatLeaveTheRootAreRefused(_ entry: String) throws {
        let dir = try TemporaryDirectory()
        try tar(dir.path + "/bad.tar", [entry])
        let unpacker = try LayerUnpacker(root: dir.path + "/rootfs")
        #expect {
            try unpacker.apply(layer: dir.path + "/bad.tar", role: "layer 7")
        } throws: { error in
            "\(error)".contains("layer 7") && "\(error)".contains("refusing")
        }
        #expect(!exists(dir.path + "/escape") && !exists("/etc/escape"))
    }
}
