import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import Threads
import SystemSupport

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
/// and one budget per operation. Every retried operation (registry requests, blob
/// uploads with their resumes, blob and model downloads) runs through `run`, so
/// budgets are set here and never nest.
///
/// The budget is time without progress, not failures in a row: a long upload over a
/// link that keeps failing but keeps moving goes on for as long as it moves (with
/// 20 % resets and 20 % 5xx, six failures in a row happened in 2 pushes of 10), and
/// one that stops moving ends after `patience` seconds whatever the attempts cost (a
/// peer that accepts and never answers used to take six stall timeouts). A peer
/// that refuses connections outright is not there at all: `unreachableAttempts`
/// refusals in a row end the operation after a few seconds.
public struct RetryPolicy: Sendable {
    /// Seconds an operation may go without progress before giving up (`NetworkLimits`: 60).
    public var patience: Double
    /// Failed attempts in a row allowed without progress, however quick (a backstop;
    /// the time budget is what normally ends an operation).
    public var attempts: Int
    /// Refused or unresolvable connections in a row allowed: nothing is listening.
    public var unreachableAttempts: Int
    public var initialDelay: Double
    public var maximumDelay: Double
    /// How to wait between attempts; tests record the delays instead of sleeping.
    public var sleep: @Sendable (Double) -> Void = ThreadSleep.seconds
    /// Seconds on a monotonic clock; tests pass one of their own.
    public var now: @Sendable () -> Double = {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public init(patience: Double = Double(NetworkLimits.values.retryTimeout), attempts: Int = 50, unreachableAttempts: Int = 6,
                initialDelay: Double = 0.25, maximumDelay: Double = 4) {
        self.patience = patience
        self.attempts = attempts
        self.unreachableAttempts = unreachableAttempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    // Every budget gantry uses, in one place.

    /// Registries, model sources: up to `NetworkLimits.retryTimeout` (60 s) without
    /// progress, waits of 0.25 s growing to 4 s; about 8 s for a service that refuses connections.
    public static var standard: RetryPolicy { RetryPolicy() }
    /// The VM's instance metadata service (a managed-identity token): local and
    /// fast, so three attempts are plenty.
    public static var metadataService: RetryPolicy { RetryPolicy(attempts: 3, unreachableAttempts: 3) }

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
    /// or the budget is spent: `patience` seconds without progress (the next wait
    /// included), `attempts` failures in a row without progress, or
    /// `unreachableAttempts` refused connections in a row; then the last error is thrown.
    public func run<Value>(_ attempt: (_ number: Int) throws -> AttemptOutcome<Value>) throws -> Value {
        var failuresInARow = 0
        var refusalsInARow = 0
        var lastProgress = now()
        var number = 0
        while true {
            switch try attempt(number) {
            case .done(let value):
                return value
            case .retry(let error, let retryAfter, let progressed):
                if progressed {
                    lastProgress = now()
                    failuresInARow = 1
                } else {
                    failuresInARow += 1
                }
                refusalsInARow = Self.isUnreachable(error) ? refusalsInARow + 1 : 0
                let wait = delay(afterFailure: failuresInARow, retryAfter: retryAfter)
                guard failuresInARow < attempts, refusalsInARow < unreachableAttempts,
                      now() + wait - lastProgress <= patience else { throw error }
                sleep(wait)
            }
            number += 1
        }
    }

    /// Nothing listens there (connection refused) or the name does not resolve.
    static func isUnreachable(_ error: any Error) -> Bool {
        guard let transport = error as? TransportError else { return false }
        return transport.curlCode == 6 || transport.curlCode == 7
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
