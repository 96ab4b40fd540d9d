import Foundation
import Testing
@testable import Layering
import TestTools

@Suite struct FileSetTests {
    /// The walk streams entries in the byte order of their full paths, though it
    /// only ever sorts one directory's names: `a/…` comes after `a-b` and `a.c`
    /// ('/' sorts after '-' and '.') and before `a0`.
    @Test func streamedOrderIsTheByteOrderOfFullPaths() throws {
        let dir = try TemporaryDirectory()
        for path in ["src/a/x", "src/a/y/z", "src/a-b", "src/a.c", "src/a0", "src/B", "src/é", "src/a/y.txt", "src/ab/c"] {
            try dir.write(path, "1")
        }
        let paths = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app")).entries().map(\.path)
        #expect(paths == ["app", "app/B", "app/a", "app/a-b", "app/a.c", "app/a/x", "app/a/y", "app/a/y.txt", "app/a/y/z",
                          "app/a0", "app/ab", "app/ab/c", "app/é"])
        #expect(paths == paths.sorted(by: FileSet.bytewisePrecedes))
    }

    /// A second name of a file already in the layer becomes a hard link to the first, in order.
    @Test func sharedInodesBecomeHardLinksAfterTheFirstName() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/b/data", "shared")
        try #require(link(dir.path + "/src/b/data", dir.path + "/src/a") == 0)
        let entries = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app")).entries()
        #expect(entries.first { $0.path == "app/a" }?.kind == .regular(source: dir.path + "/src/a"))
        #expect(entries.first { $0.path == "app/b/data" }?.kind == .hardlink(to: "app/a"))
    }

    @Test func entriesAreSortedNormalizedAndParentsEmitted() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/b.py", "b", mode: 0o600)
        try dir.write("src/a-z/x", "x")
        try dir.write("src/run.sh", "#!/bin/sh", mode: 0o700)
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/srv/app", uid: 1000, gid: 1001))
        #expect(try set.entries().map(\.path) == ["srv", "srv/app", "srv/app/a-z", "srv/app/a-z/x", "srv/app/b.py", "srv/app/run.sh"])
        let byPath = Dictionary(uniqueKeysWithValues: try set.entries().map { ($0.path, $0) })
        #expect(byPath["srv"]?.uid == 0)                 // a parent above the destination stays root's
        #expect(byPath["srv/app"]?.uid == 1000)          // the destination itself is the app's
        #expect(byPath["srv/app/b.py"]?.mode == 0o644)   // 0600 normalized
        #expect(byPath["srv/app/run.sh"]?.mode == 0o755) // exec bit kept
        #expect(byPath["srv/app/b.py"]?.gid == 1001)
    }

    @Test func aLayerModeAppliesToFilesNotDirectories() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/run.sh", "#!/bin/sh", mode: 0o700)
        try dir.write("src/conf/app.ini", "x")
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app", fileMode: 0o640))
        let modes = Dictionary(uniqueKeysWithValues: try set.entries().map { ($0.path, $0.mode) })
        #expect(modes == ["app": 0o755, "app/conf": 0o755, "app/conf/app.ini": 0o640, "app/run.sh": 0o640])
    }

    @Test func singleFileGoesToOrIntoTheDestination() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("model.bin", "weights")
        let exact = try FileSet(source: file, options: FileSetOptions(destination: "/models/m.bin"))
        #expect(try exact.entries().map(\.path) == ["models", "models/m.bin"])
        let into = try FileSet(source: file, options: FileSetOptions(destination: "/models/"))
        #expect(try into.entries().map(\.path) == ["models", "models/model.bin"])
    }

    @Test func escapingSymlinkIsAnErrorUnlessAllowed() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/a.txt", "a")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/src/out", withDestinationPath: "../secret")
        #expect(throws: (any Error).self) { try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app")).entries() }
        let allowed = try FileSet(source: dir.path + "/src",
                                  options: FileSetOptions(destination: "/app", allowExternalSymlinks: true))
        #expect(try allowed.entries().contains { $0.kind == .symlink(target: "../secret") })
    }

    @Test(arguments: [
        ("a", "link", false), ("../x", "link", true), ("../x", "d/link", false), ("../../x", "d/link", true),
        ("/etc/passwd", "link", true), ("./b/../c", "link", false), ("b/../../x", "link", true),
    ])
    func symlinkEscapeIsLexical(_ target: String, _ from: String, escapes: Bool) {
        #expect(Walker.escapes(target: target, from: from) == escapes)
    }

    @Test func hardLinksAreStoredOnce() throws {
        let dir = try TemporaryDirectory()
        let first = try dir.write("src/a.txt", "shared")
        try FileManager.default.linkItem(atPath: first, toPath: dir.path + "/src/b.txt")
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app"))
        let b = try #require(try set.entries().first { $0.path == "app/b.txt" })
        #expect(b.kind == .hardlink(to: "app/a.txt"))
        #expect(b.size == 0)
    }

    @Test func ignoreFileAndDefaultsApply() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/.dockerignore", "*.tmp\n")
        try dir.write("src/keep.py", "k")
        try dir.write("src/junk.tmp", "j")
        try dir.write("src/.git/HEAD", "ref")
        try dir.write("src/pkg/__pycache__/m.pyc", "c")
        try dir.write("src/.gantryignore", "*.py\n")  // wins over .dockerignore
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app", ignore: ["pkg"]))
        #expect(try set.entries().map(\.path) == ["app", "app/.dockerignore", "app/.gantryignore", "app/junk.tmp"])
    }

    @Test func missingSourceNamesThePath() {
        do {
            _ = try FileSet(source: "/nonexistent/gantry-src", options: FileSetOptions(destination: "/app"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent/gantry-src"))
        }
    }
}
