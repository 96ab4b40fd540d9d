import Threads
import Diagnostics

/// A tag several processes rewrite — the referrers tag-schema index, cosign's
/// `sha256-<hex>.sig` manifest — is read-modify-write, and a registry offers no
/// compare-and-swap on a tag: two writers that read the same document lose one
/// addition (issue 22: 4 of 4 concurrent SBOM attaches kept one). So a writer
/// writes, waits a moment and reads again; while its addition is missing
/// (another writer replaced the document) it merges it back and writes again.
/// Writers doing the same at once keep both.
public enum SharedTagUpdate {
    public static let rounds = 8

    /// Runs `round` until it reports this writer's addition present. `round` reads
    /// the tag and returns true when the addition is there (written before, or this
    /// write held through the wait), else writes the merged document and returns
    /// false. After `rounds` writes, `gaveUp` is the error's message.
    public static func untilPresent(gaveUp: String, wait: (Double) -> Void = ThreadSleep.seconds,
                                    _ round: () throws -> Bool) throws {
        for _ in 0..<rounds {
            if try round() { return }
            // Long enough for a writer that read before this write to have written too.
            wait(Double.random(in: 0.3...0.6))
        }
        throw Failure(.unavailable, gaveUp)
    }
}
