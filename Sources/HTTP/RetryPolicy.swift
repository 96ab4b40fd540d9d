import FoundationEssentials
import Glibc
import Diagnostics

/// What one attempt of a retried operation came to.
public enum AttemptOutcome<Value> {
    case done(Value)
    /// Worth another try. `error` is what gets reported when the budget runs out;
    /// `retryAfter` is the server's Retry-After; `progressed` says the attempt
    /// moved forward (a chunk confirmed, bytes received), so the budget counts
    /// again from there: a long upload over a flaky link keeps going as long as it
    /// keeps moving.
    case retry(any Error, retryAfter: String? = nil, progressed: Bool = false)
}

/// gantry's one retry loop: exponential backoff with jitter, Retry-After honoured,
/// and one budget of attempts per operation. Every retried operation (registry
/// requests, blob uploads with their resumes, blob and model downloads) runs
/// through `run`, so budgets are set here and never nest.
public struct RetryPolicy: Sendable {
    /// Consecutive failed attempts allowed (without progress) before giving up.
    public var attempts: Int
    public var initialDelay: Double
    public var maximumDelay: Double
    /// How to wait between attempts; tests record the delays instead of sleeping.
    public var sleep: @Sendable (Double) -> Void = { seconds in
        var time = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.towardZero)) * 1e9))
        var remaining = timespec()
        while nanosleep(&time, &remaining) < 0 && errno == EINTR { time = remaining }
    }

    public init(attempts: Int = 6, initialDelay: Double = 0.25, maximumDelay: Double = 4) {
        self.attempts = attempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    // Every budget gantry uses, in one place.

    /// Registries, model sources: six attempts in a row, waits of 0.25 s growing to 4 s
    /// (about 8 s in all before giving up on a service that is down).
    public static let standard = RetryPolicy()
    /// The VM's instance metadata service (a managed-identity token): local and
    /// fast, so three attempts are plenty.
    public static let metadataService = RetryPolicy(attempts: 3)

    /// Statuses that are accidents rather than answers: 408, 429 and 5xx (but not
    /// 501 Not Implemented or 505 HTTP Version Not Supported).
    public static func isTransient(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status) && status != 501 && status != 505
    }

    /// Errors worth another try: connection-level failures (not TLS or bad URLs).
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? TransportError)?.isRetryable ?? false
    }

    /// Seconds to wait after the `failures`-th failure in a row: a Retry-After in
    /// seconds wins (capped at a minute), else min(max, initial·2^(failures-1)) with ±50 % jitter.
    public func delay(afterFailure failures: Int, retryAfter: String?) -> Double {
        if let retryAfter, let seconds = Double(retryAfter.trimmingWhitespace()), seconds >= 0 {
            return min(seconds, 60)
        }
        let base = min(maximumDelay, initialDelay * Glibc.pow(2.0, Double(max(0, failures - 1))))
        return base * Double.random(in: 0.5...1.5)
    }

    /// Runs `attempt` (given the attempt's number, from 0) until it is done, throws,
    /// or fails `attempts` times in a row without progress; then the last error is thrown.
    public func run<Value>(_ attempt: (_ number: Int) throws -> AttemptOutcome<Value>) throws -> Value {
        var failuresInARow = 0
        var number = 0
        while true {
            switch try attempt(number) {
            case .done(let value):
                return value
            case .retry(let error, let retryAfter, let progressed):
                failuresInARow = progressed ? 1 : failuresInARow + 1
                guard failuresInARow < attempts else { throw error }
                sleep(delay(afterFailure: failuresInARow, retryAfter: retryAfter))
            }
            number += 1
        }
    }

    /// One HTTP exchange, retried on transient statuses and connection failures. A
    /// transient status on the last attempt is returned for the caller to report
    /// (its body says more than a generic error would).
    public func run(_ exchange: () throws -> HTTPResponse) throws -> HTTPResponse {
        struct TransientAnswer: Error { let response: HTTPResponse }
        do {
            return try run { _ -> AttemptOutcome<HTTPResponse> in
                do {
                    let response = try exchange()
                    guard RetryPolicy.isTransient(status: response.status) else { return .done(response) }
                    return .retry(TransientAnswer(response: response), retryAfter: response.header("Retry-After"))
                } catch where RetryPolicy.isTransient(error) {
                    return .retry(error)
                }
            }
        } catch let answer as TransientAnswer {
            return answer.response
        }
    }
}
