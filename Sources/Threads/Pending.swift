import FoundationEssentials
import Glibc

/// A result that one thread fills in once and another waits for (a compressed
/// block, a child process's standard error, the end of a worker job).
public final class Pending<Value: Sendable>: @unchecked Sendable {
    // Condition, not Mutex: waiting needs a condition variable. All state is
    // touched only under `condition`, hence @unchecked.
    private let condition = Condition()
    private var value: Value?

    public init() {}

    public func fulfil(_ result: Value) {
        condition.lock()
        value = result
        condition.broadcast()
        condition.unlock()
    }

    public func wait() -> Value {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value { return value }
            condition.wait()
        }
    }
}
