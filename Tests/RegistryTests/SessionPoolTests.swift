import Testing
@testable import Registry
@testable import HTTP

/// One session per registry per command, tokens widened by scope (issue 23).
@Suite struct SessionPoolTests {
    @Test func copiesOfTheSettingsShareOneSessionPerRegistry() throws {
        let settings = RegistrySettings()
        let copy = settings
        let first = try settings.session(for: "127.0.0.1:5000")
        #expect(try copy.session(for: "127.0.0.1:5000") === first)
        #expect(try settings.session(for: "127.0.0.1:5001") !== first)
        var other = settings
        other.http.verbose = true  // other HTTP options: a session of its own
        #expect(try other.session(for: "127.0.0.1:5000") !== first)
    }

    @Test func aTokenServesEveryScopeItCovers() {
        #expect(TokenCache.scope("repository:a/b:pull,push", covers: "repository:a/b:pull"))
        #expect(TokenCache.scope("repository:a/b:pull,push repository:c:pull", covers: "repository:c:pull repository:a/b:push"))
        #expect(!TokenCache.scope("repository:a/b:pull", covers: "repository:a/b:pull,push"))
        #expect(!TokenCache.scope("repository:a/b:pull,push", covers: "repository:a/bc:pull"))
        #expect(!TokenCache.scope("repository:a/b:pull", covers: ""))
        let cache = TokenCache()
        cache.store("T", for: "repository:a/b:pull,push", lifetime: 60)
        #expect(cache.token(for: "repository:a/b:pull") == "T")
        #expect(cache.token(for: "repository:x:pull") == nil)
    }
}

/// The read-modify-write loop on shared tags (referrers index, cosign signatures).
@Suite struct SharedTagUpdateTests {
    @Test func writesUntilTheAdditionHoldsThroughAWait() throws {
        var rounds = 0
        var waits: [Double] = []
        // Another writer replaced the document twice; the third write held.
        try SharedTagUpdate.untilPresent(gaveUp: "never", wait: { waits.append($0) }) {
            rounds += 1
            return rounds == 4
        }
        #expect(rounds == 4 && waits.count == 3 && waits.allSatisfy { (0.3...0.6).contains($0) })
    }

    @Test func givesUpAfterItsRoundsWithTheGivenLine() {
        var rounds = 0
        #expect {
            try SharedTagUpdate.untilPresent(gaveUp: "index kept changing", wait: { _ in }) { rounds += 1; return false }
        } throws: { "\($0)".contains("index kept changing") }
        #expect(rounds == SharedTagUpdate.rounds)
    }
}
