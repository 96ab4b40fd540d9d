import Testing
@testable import Layering

@Suite struct IgnoreRulesTests {
    static let rules = try! IgnoreRules(patterns: IgnoreRules.defaultPatterns + [
        "# a comment", "*.log", "!keep.log", "build/", "**/*.pyc", "/docs", "tmp?", "data/[ab].bin",
    ])

    @Test(arguments: [
        ("app.log", true), ("keep.log", false), ("sub/app.log", false),  // '*' does not cross '/'
        ("build", true), ("build/out/x.o", true),                        // a directory excludes its contents
        ("a/b/c.pyc", true), ("c.pyc", true),
        ("docs/readme.md", true), ("src/docs/readme.md", false),
        ("tmp1", true), ("tmp12", false),
        ("data/a.bin", true), ("data/c.bin", false),
        (".git/HEAD", true), ("pkg/__pycache__/m.pyc", true), ("pkg/.git/config", true),
        ("main.py", false),
    ])
    func matchesDockerignoreSemantics(_ path: String, excluded: Bool) {
        #expect(Self.rules.excludes(path) == excluded, "\(path)")
    }

    @Test func lastMatchingPatternWins() throws {
        let rules = try IgnoreRules(patterns: ["*.txt", "!important.txt", "important.txt"])
        #expect(rules.excludes("important.txt"))
        #expect(rules.hasExceptions)
    }

    @Test func exceptionCanRestoreDefaultExclusion() throws {
        let rules = try IgnoreRules(patterns: IgnoreRules.defaultPatterns + ["!.git"])
        #expect(!rules.excludes(".git"))
    }

    @Test func invalidPatternNamesItsLine() {
        #expect(throws: (any Error).self) { try IgnoreRules(patterns: ["ok", "[z-a]"], source: ".dockerignore") }
    }
}
