/// What kind of failure an error is, which fixes the process exit code.
///
/// The codes follow BSD sysexits(3) so that scripts can tell a bad recipe from a
/// full disk without parsing messages. docs/errors.md documents them; keep both in step.
public enum FailureKind: Sendable {
    /// A flag, recipe field or reference is malformed.
    case usage
    /// An input exists but its content is wrong (bad JSON, digest mismatch, escaping symlink).
    case invalidInput
    /// An input file, directory or image does not exist or cannot be read.
    case missingInput
    /// An output cannot be created (missing directory, permission).
    case cannotCreateOutput
    /// Reading or writing failed part-way (disk full, I/O error).
    case io
    /// A bug in gantry: an invariant did not hold.
    case internalFailure
    /// A remote service could not be reached or kept failing (registry, blob storage).
    case unavailable
    /// Credentials were missing or refused.
    case authentication
    /// Something did not finish in the time allowed (a rollout).
    case timeout
    /// `gantry test` ran and a check failed (the image is wrong, not gantry's input).
    case checksFailed

    public var exitCode: Int32 {
        switch self {
        case .usage: return 64            // EX_USAGE
        case .invalidInput: return 65     // EX_DATAERR
        case .missingInput: return 66     // EX_NOINPUT
        case .cannotCreateOutput: return 73 // EX_CANTCREAT
        case .io: return 74               // EX_IOERR
        case .internalFailure: return 70  // EX_SOFTWARE
        case .unavailable: return 69      // EX_UNAVAILABLE
        case .authentication: return 77   // EX_NOPERM
        case .timeout: return 75          // EX_TEMPFAIL
        case .checksFailed: return 1      // as test runners (pytest, go test) report failures
        }
    }
}

/// An error that gantry shows to a person as one line: what failed, where, and what to do.
public protocol GantryError: Error, CustomStringConvertible, Sendable {
    var kind: FailureKind { get }
    /// The error this one wraps, if any: kept so that code can still tell causes
    /// apart (a registry's error code, a curl code) after a message was added.
    var cause: (any Error)? { get }
}

extension GantryError {
    public var cause: (any Error)? { nil }
}

extension Error {
    /// This error or the first one of type `T` in its chain of causes.
    public func underlying<T: Error>(_ type: T.Type) -> T? {
        var current: (any Error)? = self
        for _ in 0..<16 {
            guard let error = current else { return nil }
            if let match = error as? T { return match }
            current = (error as? any GantryError)?.cause
        }
        return nil
    }
}

/// The common concrete error: a kind, a finished one-line message, and the error it wraps.
public struct Failure: GantryError {
    public let kind: FailureKind
    public let message: String
    public let cause: (any Error)?

    /// `message` is the whole line shown; when wrapping, it already says what `cause` said.
    public init(_ kind: FailureKind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    /// Puts a prefix in front of another error's line, keeping its kind and the error itself.
    public init(_ prefix: String, wrapping error: any Error) {
        let kind = (error as? any GantryError)?.kind ?? .internalFailure
        self.init(kind, "\(prefix): \(error)", cause: error)
    }

    public var description: String { message }
}
