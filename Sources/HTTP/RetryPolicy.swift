import Foundation
import Diagnostics

/// Exponential backoff with jitter for transient failures: connection errors,
/// 408, 429 (honouring Retry-After) and 5xx. Other statuses are answers, not
/// accidents, and go back to the caller at once.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var initialDelay: Double
    public var maximumDelay: Double

    public init(attempts: Int = 6, initialDelay: Double = 0.25, maximumDelay: Double = 4) {
        self.attempts = attempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    public static func isTransient(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status) && status != 501 && status != 505
    }

    /// Seconds to wait before attempt `attempt + 1`: a Retry-After in seconds wins
    /// (capped at a minute), else min(max, initial·2^attempt) with ±50 % jitter.
    public func delay(afterAttempt attempt: Int, retryAfter: String?) -> Double {
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(seconds, 60)
        }
        let base = min(maximumDelay, initialDelay * pow(2, Double(attempt)))
        return base * Double.random(in: 0.5...1.5)
    }

    /// Runs `attempt` until it returns a non-transient response or the attempts run out.
    /// A transient status on the last attempt is returned for the caller to report.
    public func run(_ attempt: () throws -> HTTPResponse) throws -> HTTPResponse {
        var tries = 0
        while true {
            do {
                let response = try attempt()
                tries += 1
                guard RetryPolicy.isTransient(status: response.status), tries < attempts else { return response }
                Thread.sleep(forTimeInterval: delay(afterAttempt: tries - 1, retryAfter: response.header("Retry-After")))
            } catch let error as TransportError where error.isRetryable {
                tries += 1
                guard tries < attempts else { throw error }
                Thread.sleep(forTimeInterval: delay(afterAttempt: tries - 1, retryAfter: nil))
            }
        }
    }
}
