import Testing
import FoundationEssentials
@testable import DebianPackages

/// The resolver against small hand-written indexes: each case is what apt does
/// with the same stanzas (integration's apt_packages_test compares with apt-get
/// itself on real Debian packages).
@Suite struct PackageResolverTests {
    static func package(_ text: String) -> DebianPackage {
        var lines = text.split(separator: ";").map { $0.trimmingSpaces }
        if !lines.contains(where: { $0.hasPrefix("Architecture:") }) { lines.append("Architecture: amd64") }
        return DebianPackage(stanza: ControlStanza.parse(lines.joined(separator: "\n")).first!)!
    }

    static func index(_ stanzas: [String]) throws -> PackageIndex {
        let index = PackageIndex(architecture: "amd64")
        for text in stanzas { try index.add(package(text)) }
        return index
    }

    func resolve(_ index: PackageIndex, installed: [String] = [], _ names: [String], excluded: Set<String> = []) throws -> [String] {
        var resolver = PackageResolver(index: index, installed: installed.map(Self.package))
        resolver.excluded = excluded
        return try resolver.resolve(names.map(PackageResolver.Request.init(parsing:))).packages.map(\.label)
    }

    @Test func dependenciesAreFollowedAndTheBaseSatisfiesWhatItCan() throws {
        let index = try Self.index([
            "Package: app; Version: 1; Depends: libc6 (>= 2.30), liba | libb, tool:any",
            "Package: libc6; Version: 2.36-9",
            "Package: liba; Version: 2",
            "Package: libb; Version: 1",
            "Package: tool; Version: 3; Architecture: all; Multi-Arch: foreign; Pre-Depends: libc6",
        ])
        #expect(try resolve(index, installed: ["Package: libc6; Version: 2.36-9; Status: install ok installed"], ["app"]) == ["app=1", "liba=2", "tool=3"])
        // An older libc6 in the base is upgraded, as apt does.
        #expect(try resolve(index, installed: ["Package: libc6; Version: 2.28-10"], ["app"]) == ["app=1", "liba=2", "libc6=2.36-9", "tool=3"])
        // A second alternative already present is used instead of installing the first.
        #expect(try resolve(index, installed: ["Package: libc6; Version: 2.36-9", "Package: libb; Version: 1"], ["app"]) == ["app=1", "tool=3"])
        // Requested and already the newest in the base: nothing.
        #expect(try resolve(index, installed: ["Package: libc6; Version: 2.36-9"], ["libc6"]) == [])
    }

    @Test func virtualPackagesAndVersionedProvides() throws {
        let index = try Self.index([
            "Package: app; Version: 1; Depends: mail-transport-agent, awk, libx (>= 2)",
            "Package: exim4; Version: 4; Provides: mail-transport-agent; Priority: standard",
            "Package: postfix; Version: 3; Provides: mail-transport-agent; Priority: optional",
            "Package: mawk; Version: 1.3; Provides: awk; Priority: required",
            "Package: gawk; Version: 5; Provides: awk; Priority: optional",
            "Package: libx-new; Version: 9; Provides: libx (= 2.5)",
            "Package: libx-old; Version: 9; Provides: libx",
        ])
        #expect(try resolve(index, ["app"]) == ["app=1", "exim4=4", "libx-new=9", "mawk=1.3"])
        // A provider the base has wins.
        #expect(try resolve(index, installed: ["Package: gawk; Version: 5; Provides: awk"], ["app"]) == ["app=1", "exim4=4", "libx-new=9"])
        #expect { try resolve(index, ["mail-transport-agent"]) } throws: { "\($0)".contains("virtual package provided by exim4, postfix") }
    }

    @Test func pinsExclusionsAndClearFailures() throws {
        let index = try Self.index([
            "Package: curl; Version: 7.88.1-10+deb12u8; Depends: libcurl4 (= 7.88.1-10+deb12u8)",
            "Package: curl; Version: 7.88.1-10+deb12u5; Depends: libcurl4 (= 7.88.1-10+deb12u5)",
            "Package: libcurl4; Version: 7.88.1-10+deb12u8; Depends: missing-lib",
            "Package: a; Version: 1; Conflicts: b",
            "Package: b; Version: 1",
        ])
        #expect(try resolve(index, ["curl"], excluded: ["missing-lib"]) == ["curl=7.88.1-10+deb12u8", "libcurl4=7.88.1-10+deb12u8"])
        // The pinned curl wants a libcurl4 no repository has any more.
        #expect { try resolve(index, ["curl=7.88.1-10+deb12u5"]) } throws: { "\($0)".contains("curl=7.88.1-10+deb12u5 depends on libcurl4 (= 7.88.1-10+deb12u5)") }
        #expect { try resolve(index, ["curl"]) } throws: { "\($0)".contains("depends on missing-lib") && "\($0)".contains("needed by curl") }
        #expect { try resolve(index, ["curl=1.0"]) } throws: { "\($0)".contains("the repositories have 7.88.1-10+deb12u5, 7.88.1-10+deb12u8") }
        #expect { try resolve(index, ["nope"]) } throws: { "\($0)".contains("package nope is in no repository") }
        #expect { try resolve(index, ["a", "b"]) } throws: { "\($0)".contains("conflicts with b=1") }
        #expect { try resolve(index, installed: ["Package: b; Version: 1"], ["a"]) } throws: { "\($0)".contains("which the base has") }
    }
}

/// An index loaded from a file keeps only names, versions and Provides, and reads
/// a version's stanza back from its copy when the resolver asks.
@Suite struct PackageIndexFileTests {
    @Test func stanzasAreReadBackFromTheCopy() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/debian-index-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = """
        Package: app
        Version: 1.0
        Architecture: amd64
        Depends: libx (>= 2), mta
        Filename: pool/main/a/app/app_1.0_amd64.deb
        SHA256: \(String(repeating: "c", count: 64))
        Size: 10


        Package: libx
        Version: 2.1
        Architecture: arm64

        Package: libx
        Version: 2.0
        Architecture: all
        Description: a library
         with a long description

        Package: exim4
        Version: 4.96
        Architecture: amd64
        Provides: mta,
         mail-transport-agent
        """
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/Packages"))
        let index = PackageIndex(architecture: "amd64")
        try index.load(index: directory + "/Packages", repository: "http://r", copyPath: directory + "/copy", describedAs: "Packages")
        #expect(try index.versions(of: "libx").map(\.label) == ["libx=2.0"])  // arm64 left out
        let app = try #require(try index.candidate("app"))
        #expect(app.depends == "libx (>= 2), mta" && app.size == 10 && app.sha256 == String(repeating: "c", count: 64))
        #expect(try index.providers(of: "mail-transport-agent").map(\.package.name) == ["exim4"])
        var resolver = PackageResolver(index: index, installed: [])
        #expect(try resolver.resolve([.init(parsing: "app")]).packages.map(\.label) == ["app=1.0", "exim4=4.96", "libx=2.0"])
        #expect(ResolvedPackage(app).url == "http://r/pool/main/a/app/app_1.0_amd64.deb")
    }
}
