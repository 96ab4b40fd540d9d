import Testing
@testable import DebianPackages

@Suite struct DebianVersionTests {
    /// Pairs in ascending order, from Debian Policy §5.6.12 and dpkg's own tests.
    @Test(arguments: [
        ("1.0~rc1", "1.0"), ("1.0", "1.0-1"), ("1.0-1", "1.0-2"), ("1.0-2", "1.0a-1"), ("1.0a", "1.0+b1"),
        ("1.9", "1.10"), ("2.36-9+deb12u4", "2.36-9+deb12u7"), ("9:1.0", "10:0.1"), ("1:0.9", "2:0.1"),
        ("7.88.1-10+deb12u7", "7.88.1-10+deb12u8"), ("1.0~~", "1.0~~a"), ("1.0~~a", "1.0~"), ("1.0~", "1.0"),
        ("0.9.1", "1:0.1"), ("1.2.3", "1.2.3.0.1"),
    ])
    func versionsOrderAsDpkgDoes(lower: String, higher: String) throws {
        let a = try #require(DebianVersion(lower)), b = try #require(DebianVersion(higher))
        #expect(a < b)
        #expect(!(b < a))
        #expect(DebianVersion.compare(b, a) == 1)
    }

    @Test func equalVersionsCompareEqualWhateverTheirSpelling() throws {
        #expect(try #require(DebianVersion("1.0")) == #require(DebianVersion("0:1.0")))
        #expect(try #require(DebianVersion("1.01")) == #require(DebianVersion("1.1")))
        #expect(DebianVersion("abc") == nil)
        #expect(DebianVersion("x:1") == nil)
    }

    @Test func relationsParseWithAlternativesArchesAndOperators() throws {
        let groups = try PackageRelation.parseField("libc6 (>= 2.34), default-mta | mail-transport-agent, python3:any (<< 3.12~), libfoo [!amd64], libbar [amd64] <!nocheck>, old (> 1)",
                                                    architecture: "amd64")
        #expect(groups.map { $0.map(\.description) } == [["libc6 (>= 2.34)"], ["default-mta", "mail-transport-agent"],
                                                          ["python3:any (<< 3.12~)"], ["libbar"], ["old (>= 1)"]])
        #expect(throws: RelationError.self) { try PackageRelation.parseField("libc6 (>= )", architecture: "amd64") }
        let relation = groups[0][0]
        #expect(relation.accepts(try #require(DebianVersion("2.36-9"))))
        #expect(!relation.accepts(try #require(DebianVersion("2.31-13"))))
    }

    @Test func stanzasKeepOrderAndContinuationLines() {
        let stanzas = ControlStanza.parse("Package: a\nDescription: one\n two\n .\n three\n\n# comment\nPackage: b\r\nVersion: 1\n")
        #expect(stanzas.count == 2)
        #expect(stanzas[0]["description"] == "one\n two\n .\n three")
        #expect(stanzas[1]["Version"] == "1")
        #expect(stanzas[0].text == "Package: a\nDescription: one\n two\n .\n three\n")
    }

    @Test func sourcesReadInBothFormats() {
        let deb822 = """
        Types: deb deb-src
        URIs: http://deb.debian.org/debian
        Suites: bookworm bookworm-updates
        Components: main contrib
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb-src
        URIs: http://example.invalid/src
        Suites: x
        Components: main

        Types: deb
        URIs: http://deb.debian.org/debian-security
        Suites: bookworm-security
        Components: main
        Enabled: no
        """
        let sources = AptSource.parseDeb822(deb822)
        #expect(sources.map(\.description) == ["http://deb.debian.org/debian bookworm main contrib", "http://deb.debian.org/debian bookworm-updates main contrib"])
        #expect(sources.allSatisfy { $0.signedBy == "/usr/share/keyrings/debian-archive-keyring.gpg" })
        #expect(sources[0].distsURL == "http://deb.debian.org/debian/dists/bookworm")

        let list = AptSource.parseList("# main\ndeb [arch=amd64 signed-by=/etc/k.gpg] http://127.0.0.1:8/debian/ bookworm main # tail\ndeb-src http://x y z\ndeb http://127.0.0.1:9/flat ./\n")
        #expect(list.count == 2)
        #expect(list[0].uri == "http://127.0.0.1:8/debian" && list[0].signedBy == "/etc/k.gpg" && list[0].architectures == ["amd64"])
        #expect(list[1].distsURL == "http://127.0.0.1:9/flat/.")
    }
}
