/// What one check did: shown as one line, and as a JUnit test case.
public struct CheckResult: Sendable {
    public var name: String
    /// `ready`, `http` or `exec`.
    public var kind: String
    public var seconds: Double
    /// One line saying why it failed; nil when it passed.
    public var failure: String?
    /// The failing answer or command output, a few lines.
    public var details: [String] = []

    public var passed: Bool { failure == nil }

    public init(name: String, kind: String, seconds: Double, failure: String? = nil, details: [String] = []) {
        self.name = name
        self.kind = kind
        self.seconds = seconds
        self.failure = failure
        self.details = details
    }
}

/// A whole run: every check's result and the container's last output lines.
public struct TestOutcome: Sendable {
    public var image: String
    public var results: [CheckResult]
    public var containerOutput: [String]
    /// Set with --keep: where the bundle stays.
    public var keptBundle: String?
    /// runc's state directory (`--root`) for commands printed to the user.
    public var runcRoot = "/run/runc"
    public var seconds: Double

    public var passed: Bool { results.allSatisfy(\.passed) }
}
