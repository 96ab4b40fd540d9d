import Glibc

/// Blocks the calling thread (never a Swift concurrency thread: gantry's blocking
/// work runs on threads of its own) for `seconds`, resuming after signals.
public enum ThreadSleep {
    public static func seconds(_ seconds: Double) {
        guard seconds > 0 else { return }
        var time = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.towardZero)) * 1e9))
        var remaining = timespec()
        while nanosleep(&time, &remaining) < 0 && errno == EINTR { time = remaining }
    }
}
