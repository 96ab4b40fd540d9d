import ByteStreams
import Diagnostics
import Threads

/// How long gantry waits on the network before it calls a peer gone: every
/// connection (`HTTPOptions`) and every retried operation (`RetryPolicy`) of the
/// process starts from these, so a peer that accepts a connection and never
/// answers — a hung registry, a stopped token service — ends in one clear error
/// after a bounded time instead of hanging. Set once, at start, from flags or
/// the environment (GANTRY_CONNECT_TIMEOUT, GANTRY_STALL_TIMEOUT, GANTRY_RETRY_TIMEOUT).
public enum NetworkLimits {
    public struct Values: Sendable, Equatable {
        /// Seconds to open a connection (TCP and TLS).
        public var connectTimeout = 10
        /// Seconds a transfer may move less than 1 byte/s (waiting for an answer
        /// included) before the attempt is abandoned.
        public var stallTimeout = 30
        /// Seconds an operation may go without progress, retries and their waits
        /// included, before gantry gives up on it.
        public var retryTimeout = 60

        public init() {}
    }

    private static let current = Locked(Values())

    public static var values: Values { current.value }

    public static func set(_ values: Values) { current.withLock { $0 = values } }

    /// The limits with the environment's overrides (`GANTRY_*_TIMEOUT`, whole seconds).
    public static func fromEnvironment(_ environment: [String: String]) throws -> Values {
        var values = Values()
        values.connectTimeout = try seconds(environment, "GANTRY_CONNECT_TIMEOUT") ?? values.connectTimeout
        values.stallTimeout = try seconds(environment, "GANTRY_STALL_TIMEOUT") ?? values.stallTimeout
        values.retryTimeout = try seconds(environment, "GANTRY_RETRY_TIMEOUT") ?? values.retryTimeout
        return values
    }

    /// A number of seconds from 1 to a day; `name` says where it came from.
    public static func parseSeconds(_ text: String, name: String) throws -> Int {
        guard let value = Int(text), (1...86_400).contains(value) else {
            throw Failure(.usage, "\(name) must be a whole number of seconds from 1 to 86400, not '\(text)'")
        }
        return value
    }

    private static func seconds(_ environment: [String: String], _ name: String) throws -> Int? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        return try parseSeconds(text, name: name)
    }
}
