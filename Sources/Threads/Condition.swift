import Glibc

/// A mutex with a condition variable (pthread's), for threads that wait for
/// another to change shared state: a worker waiting for jobs, a reader waiting
/// for bytes. gantry depends on FoundationEssentials only (Foundation's
/// NSCondition would link all of Foundation, CoreFoundation and ICU: ~5 MiB more
/// resident in every run), hence this small type.
public final class Condition: @unchecked Sendable {
    // The pthread objects live at fixed heap addresses (pthread forbids moving them).
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        // Default attributes cannot fail on Linux (glibc returns 0 unconditionally).
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for a signal; the caller holds the lock (and holds it again on return).
    public func wait() { pthread_cond_wait(condition, mutex) }
    /// Waits for a signal or until `deadline` (CLOCK_REALTIME) passes; false when it passed.
    public func wait(until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(condition, mutex, &deadline) != ETIMEDOUT
    }

    /// The CLOCK_REALTIME time `seconds` from now, for `wait(until:)`.
    public static func deadline(after seconds: Double) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int(now.tv_nsec) + Int((seconds - seconds.rounded(.down)) * 1e9)
        return timespec(tv_sec: now.tv_sec + Int(seconds) + nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
    }
    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}
