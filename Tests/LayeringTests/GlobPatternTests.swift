import Foundation
import Testing
@testable import Layering

/// The glob matcher against the regular expressions moby/patternmatcher (and
/// gantry before it) builds for the same patterns: same verdict on thousands of
/// seeded random patterns and paths.
@Suite struct GlobPatternTests {
    /// The pattern → regular expression conversion gantry used (ICU via NSRegularExpression), as the oracle.
    static func regex(for pattern: String) -> String {
        var out = "^"
        let chars = Array(pattern)
        var index = 0
        while index < chars.count {
            let c = chars[index]
            switch c {
            case "*":
                if index + 1 < chars.count, chars[index + 1] == "*" {
                    index += 1
                    if index + 1 < chars.count, chars[index + 1] == "/" { index += 1; out += "(.*/)?" } else { out += ".*" }
                } else {
                    out += "[^/]*"
                }
            case "?":
                out += "[^/]"
            case "[":
                var j = index + 1
                var cls = "["
                if j < chars.count, chars[j] == "!" || chars[j] == "^" { cls += "^"; j += 1 }
                while j < chars.count, chars[j] != "]" {
                    if chars[j] == "\\", j + 1 < chars.count { cls += "\\" + String(chars[j + 1]); j += 2; continue }
                    cls += chars[j] == "[" ? "\\[" : String(chars[j])
                    j += 1
                }
                cls += "]"
                out += j < chars.count ? cls : "\\["
                index = j < chars.count ? j : index
            case "\\":
                if index + 1 < chars.count { index += 1; out += NSRegularExpression.escapedPattern(for: String(chars[index])) }
            default:
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
            index += 1
        }
        return out + "$"
    }

    static func oracle(_ pattern: String, _ path: String) -> Bool? {
        guard let regex = try? NSRegularExpression(pattern: regex(for: pattern)) else { return nil }
        let range = NSRange(path.startIndex..., in: path)
        return regex.firstMatch(in: path, options: [.anchored], range: range)?.range == range
    }

    @Test(arguments: [
        ("*.log", "debug.log", true), ("*.log", "logs/debug.log", false), ("**/*.pyc", "a/b/c.pyc", true),
        ("**/*.pyc", "c.pyc", true), ("tmp?", "tmp1", true), ("tmp?", "tmp/", false), ("data/[ab].bin", "data/b.bin", true),
        ("data/[!ab].bin", "data/c.bin", true), ("data/[!ab].bin", "data/a.bin", false), ("[a-c]x", "bx", true),
        ("a\\*b", "a*b", true), ("a\\*b", "axb", false), ("[", "[", true), ("docs/**", "docs/a/b", true), ("**", "", true),
        ("é*", "école", true),
    ])
    func knownCases(_ pattern: String, _ path: String, _ expected: Bool) throws {
        let glob = try GlobPattern(pattern)
        let scalars = Array(path.unicodeScalars)
        #expect(glob.matches(scalars, 0..<scalars.count) == expected)
        #expect(Self.oracle(pattern, path) == expected)
    }

    @Test func agreesWithTheRegularExpressionsOnRandomPatterns() throws {
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let patternAlphabet = Array("ab/*?[]!-\\.c")
        let pathAlphabet = Array("ab/.c-[]*")
        var compared = 0
        for _ in 0..<3000 {
            let pattern = String((0..<(1 + next(8))).map { _ in patternAlphabet[next(patternAlphabet.count)] })
            // Classes that open with ']', '--' and '\' escapes inside a class are where regex
            // dialects disagree (ICU reads `[\a]` as BEL, `--` as set difference); gantry
            // refuses an empty class and reads `\x` as x everywhere, as Go's filepath.Match does.
            if ["[]", "[!]", "[^]", "--"].contains(where: pattern.contains) { continue }
            if pattern.contains("[") && pattern.contains("\\") { continue }
            let glob = try? GlobPattern(pattern)
            for _ in 0..<6 {
                let path = String((0..<next(9)).map { _ in pathAlphabet[next(pathAlphabet.count)] })
                let expected = Self.oracle(pattern, path)
                guard let expected, let glob else {
                    // Where ICU refuses the expression, the glob must refuse the pattern too, and vice versa.
                    #expect((expected == nil) == (glob == nil), "pattern \(pattern)")
                    continue
                }
                let scalars = Array(path.unicodeScalars)
                #expect(glob.matches(scalars, 0..<scalars.count) == expected, "pattern \(pattern) path \(path)")
                // The suffix test may only turn away paths the matcher would refuse.
                if expected { #expect(glob.mayMatch(path), "pattern \(pattern) path \(path): turned away by its suffix") }
                compared += 1
            }
        }
        #expect(compared > 10_000)
    }
}
