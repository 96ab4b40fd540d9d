import Testing
import OCI
import Layering
import Diagnostics
@testable import ImageBuild
@testable import Recipes
import Images
import TestTools

/// Throws thousands of generated recipes, references, destinations and ignore
/// patterns at the parsers (seeded: the same inputs every run). Each must either
/// parse or fail with a documented `Failure` kind; a trap or crash fails the run.
@Suite struct ParserFuzzTests {
    static let fragments = ["/", "..", ".", "app", "a b", ":", "@", "sha256:", String(repeating: "f", count: 64), "\u{0}",
                            "\r\n", "\n", "  ", "- ", "[", "]", "{", "}", "*", "**", "!", "#", "\\", "\"", "'", "~", "null",
                            "é", "\u{FEFF}", "8080", "-1", "99999999999999", ":x", "//", "tcp", "/udp", "gzip:", "auto:12"]
    static let keys = ["base", "platform", "layers", "entrypoint", "cmd", "env", "workdir", "user", "ports", "volumes",
                       "labels", "stopSignal", "compression", "tag", "model", "python", "deploy", "source", "destination",
                       "sha256", "ownership", "ignore", "bogus"]

    func text(_ rng: inout SeededGenerator, parts: Int) -> String {
        (0..<Int.random(in: 0...parts, using: &rng)).map { _ in Self.fragments.randomElement(using: &rng)! }.joined()
    }

    /// Only documented kinds may come out: every input error is usage, invalid or missing input.
    func expectDocumented(_ body: () throws -> Void) {
        do { try body() } catch let failure as Failure {
            #expect([FailureKind.usage, .invalidInput, .missingInput].contains(failure.kind), "\(failure)")
        } catch {
            Issue.record("undocumented error \(error)")
        }
    }

    @Test func recipesNeverTrap() {
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<2000 {
            var yaml = ""
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let key = Self.keys.randomElement(using: &rng)!
                switch Int.random(in: 0...3, using: &rng) {
                case 0: yaml += "\(key): \(text(&rng, parts: 4))\n"
                case 1: yaml += "\(key):\n  - \(text(&rng, parts: 3))\n  - {source: \(text(&rng, parts: 2)), destination: \(text(&rng, parts: 3))}\n"
                case 2: yaml += "\(key): {\(Self.keys.randomElement(using: &rng)!): \(text(&rng, parts: 3))}\n"
                default: yaml += text(&rng, parts: 8) + "\n"
                }
            }
            expectDocumented {
                let recipe = try Recipe.parse(yaml, source: "fuzz.yaml", directory: "/nonexistent")
                var request = BuildRequest()
                try request.apply(recipe)
                try request.validate()
            }
        }
    }

    @Test func referencesDestinationsAndLocationsNeverTrap() {
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<3000 {
            let candidate = text(&rng, parts: 6)
            expectDocumented { _ = try Reference(parsing: candidate) }
            expectDocumented { _ = try ImagePath.normalizeDestination(candidate) }
            expectDocumented { _ = try ImageLocation(parsing: candidate, role: "fuzz", allowRegistry: true) }
            expectDocumented { _ = try InputRules.user(candidate) }
            expectDocumented { _ = try InputRules.modelPin(candidate) }
            expectDocumented { _ = try Compression(parsing: candidate) }
            expectDocumented { _ = try Platform(parsing: candidate) }
            // A normalized destination never climbs out.
            if let normalized = try? ImagePath.normalizeDestination(candidate) {
                #expect(!normalized.split(separator: "/").contains(".."))
                #expect(normalized.hasPrefix("/"))
            }
        }
    }

    @Test func ignorePatternsNeverTrap() {
        var rng = SeededGenerator(seed: 10)
        for _ in 0..<1500 {
            let lines = (0..<Int.random(in: 1...5, using: &rng)).map { _ in text(&rng, parts: 5) }
            expectDocumented {
                let rules = try IgnoreRules(patterns: lines)
                _ = rules.excludes(text(&rng, parts: 4))
            }
        }
    }
}
