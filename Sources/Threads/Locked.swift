import Synchronization

/// A value shared between threads behind the standard library's `Mutex`, in a
/// class so that escaping closures (worker jobs, C callbacks) can hold it.
/// Types that own their state hold a `Mutex` directly instead.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { try body(&$0) }
    }

    public var value: Value { mutex.withLock { $0 } }
}
