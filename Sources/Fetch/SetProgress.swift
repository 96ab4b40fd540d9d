import FoundationEssentials
import Threads

/// How far a set of files (a blob-storage prefix) has come, for a progress line:
/// a prefix may hold tens of thousands of files and take minutes.
public enum SetProgress: Sendable, Equatable {
    /// Names listed so far (after each page).
    case listed(Int)
    /// Files of the set in the store so far, of `total`; `downloaded` of them fetched now.
    case files(done: Int, total: Int, downloaded: Int)

    /// `source`'s progress as one line, e.g. for standard error.
    public func line(for source: String) -> String {
        switch self {
        case .listed(let count): return "listing \(source): \(count) names so far"
        case .files(let done, let total, let downloaded):
            return "model  \(source): \(done) of \(total) files (\(downloaded) downloaded)"
        }
    }
}

/// Passes progress on at most once per `interval`: a line per page or per file
/// would flood a CI log, and a set small enough to finish in one interval says
/// nothing until its summary.
final class SetProgressThrottle: Sendable {
    private let interval: Duration
    private let started = ContinuousClock.now
    private let last = Locked<ContinuousClock.Instant?>(nil)
    private let report: @Sendable (SetProgress) -> Void

    init(interval: Duration, report: @escaping @Sendable (SetProgress) -> Void) {
        self.interval = interval
        self.report = report
    }

    func note(_ progress: SetProgress) {
        let now = ContinuousClock.now
        let due = last.withLock { last -> Bool in
            guard now - (last ?? started) >= interval else { return false }
            last = now
            return true
        }
        if due { report(progress) }
    }
}
