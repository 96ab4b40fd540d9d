import Foundation
import Testing
import Synchronization
@testable import HTTP

/// Records the waits instead of sleeping.
final class Waits: Sendable {
    let delays = Mutex<[Double]>([])
    var all: [Double] { delays.withLock { $0 } }

    func policy(attempts: Int) -> RetryPolicy {
        var policy = RetryPolicy(attempts: attempts, initialDelay: 1, maximumDelay: 8)
        policy.sleep = { delay in self.delays.withLock { $0.append(delay) } }
        return policy
    }
}

struct Boom: Error, Equatable { var number: Int }

@Suite struct RetryPolicyTests {
    @Test func retryAfterWinsAndBackoffGrows() {
        let policy = RetryPolicy(attempts: 5, initialDelay: 1, maximumDelay: 8)
        #expect(policy.delay(afterFailure: 1, retryAfter: "3") == 3)
        #expect(policy.delay(afterFailure: 1, retryAfter: "600") == 60)
        #expect(policy.delay(afterFailure: 10, retryAfter: nil) <= 12)
        #expect((0.5...1.5).contains(policy.delay(afterFailure: 1, retryAfter: nil)))
        #expect((1.0...3.0).contains(policy.delay(afterFailure: 2, retryAfter: nil)))
        #expect(RetryPolicy.isTransient(status: 429) && RetryPolicy.isTransient(status: 503))
        #expect(!RetryPolicy.isTransient(status: 404) && !RetryPolicy.isTransient(status: 501))
        #expect(RetryPolicy.isTransient(TransportError(curlCode: 7, message: "refused", url: "http://x")))
        #expect(!RetryPolicy.isTransient(TransportError(curlCode: 35, message: "tls", url: "https://x")))
    }

    @Test func givesUpAfterTheBudgetWithTheLastError() throws {
        let waits = Waits()
        var numbers: [Int] = []
        #expect(throws: Boom(number: 3)) {
            try waits.policy(attempts: 4).run { number -> AttemptOutcome<Int> in
                numbers.append(number)
                return .retry(Boom(number: number))
            }
        }
        #expect(numbers == [0, 1, 2, 3])
        #expect(waits.all.count == 3)
    }

    @Test func progressRenewsTheBudget() throws {
        let waits = Waits()
        // Ten failures, each one after progress: a budget of 2 in a row is never used up.
        let value = try waits.policy(attempts: 2).run { number -> AttemptOutcome<String> in
            number < 10 ? .retry(Boom(number: number), progressed: true) : .done("finished")
        }
        #expect(value == "finished")
        #expect(waits.all.count == 10)
    }

    @Test func aThrownErrorIsNotRetried() {
        let waits = Waits()
        var calls = 0
        #expect(throws: Boom(number: 0)) {
            try waits.policy(attempts: 5).run { _ -> AttemptOutcome<Int> in
                calls += 1
                throw Boom(number: 0)
            }
        }
        #expect(calls == 1 && waits.all.isEmpty)
    }

    @Test func exchangesRetryTransientStatusesHonouringRetryAfterAndReturnTheLastAnswer() throws {
        let waits = Waits()
        var statuses = [503, 429, 503]
        let response = try waits.policy(attempts: 3).run { () -> HTTPResponse in
            let status = statuses.removeFirst()
            return HTTPResponse(status: status, headers: status == 429 ? ["retry-after": ["7"]] : [:], body: [], url: "http://x")
        }
        #expect(response.status == 503)  // the budget ran out: the last answer goes back for the message
        #expect(waits.all.count == 2 && waits.all[1] == 7)
    }

    @Test func exchangesRetryDroppedConnectionsButNotTLSFailures() throws {
        let waits = Waits()
        var calls = 0
        let response = try waits.policy(attempts: 3).run { () -> HTTPResponse in
            calls += 1
            if calls == 1 { throw TransportError(curlCode: 56, message: "reset", url: "http://x") }
            return HTTPResponse(status: 200, headers: [:], body: [], url: "http://x")
        }
        #expect(response.status == 200 && calls == 2)
        #expect(throws: TransportError.self) {
            try waits.policy(attempts: 3).run { () -> HTTPResponse in throw TransportError(curlCode: 35, message: "tls", url: "https://x") }
        }
    }
}

/// The budget is time without progress (issue 22): a link that keeps moving keeps
/// going however many attempts fail; one that stops ends after `patience`; a peer
/// that refuses connections ends after a few refusals.
@Suite struct RetryBudgetTests {
    /// A clock that moves only when the policy sleeps or an attempt "takes" time.
    final class FakeClock: Sendable {
        let time = Mutex<Double>(0)
        func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
        func policy(patience: Double) -> RetryPolicy {
            var policy = RetryPolicy(patience: patience, attempts: 1000, initialDelay: 0.25, maximumDelay: 4)
            policy.sleep = { self.advance($0) }
            policy.now = { self.time.withLock { $0 } }
            return policy
        }
    }

    @Test func manyFailuresThatProgressNeverExhaustTheBudget() throws {
        let clock = FakeClock()
        // 200 failures, every third one after progress: far more than six in a row.
        let value = try clock.policy(patience: 60).run { number -> AttemptOutcome<Int> in
            clock.advance(1)
            return number < 200 ? .retry(Boom(number: number), progressed: number % 3 == 0) : .done(number)
        }
        #expect(value == 200)
    }

    /// Six failures in a row used to end an operation; twelve quick ones inside
    /// the patience now do not (the heavy-fault pushes that gave up).
    @Test func quickFailuresInARowWithinThePatienceAreRetried() throws {
        let clock = FakeClock()
        let value = try clock.policy(patience: 60).run { number -> AttemptOutcome<Int> in
            clock.advance(0.5)
            return number < 12 ? .retry(Boom(number: number)) : .done(number)
        }
        #expect(value == 12)
    }

    @Test func aPeerThatNeverAnswersEndsAfterThePatience() {
        let clock = FakeClock()
        var attempts = 0
        #expect(throws: Boom.self) {
            try clock.policy(patience: 60).run { number -> AttemptOutcome<Int> in
                attempts += 1
                clock.advance(30)  // each attempt waits out a 30 s stall
                return .retry(Boom(number: number))
            }
        }
        #expect(attempts == 2)
        #expect(clock.time.withLock { $0 } <= 61)
    }

    @Test func refusedConnectionsEndAfterAFewAttempts() {
        let clock = FakeClock()
        var attempts = 0
        #expect(throws: TransportError.self) {
            try clock.policy(patience: 600).run { _ -> AttemptOutcome<Int> in
                attempts += 1
                return .retry(TransportError(curlCode: 7, message: "refused", url: "http://x"))
            }
        }
        #expect(attempts == 6)
    }
}
