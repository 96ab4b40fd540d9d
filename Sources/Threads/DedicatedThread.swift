import Glibc
import CShims
import Diagnostics

/// Starts `body` on a new detached thread of its own (pthread), for blocking work
/// that must stay off Swift's cooperative pool: compression workers, a child
/// process's pipes, a download's hasher. `name` shows in `top -H` and debuggers
/// (Linux keeps the first 15 bytes).
public enum DedicatedThread {
    public static func start(name: String, stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) throws {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            throw Failure(.unavailable, "cannot start a thread for \(name): \(String(cString: strerror(started))); the system is out of threads or memory")
        }
        var shortName = name
        while shortName.utf8.count > 15 { shortName.removeLast() }
        // Only a label for debugging: a thread that could not be named works the same.
        _ = gantry_name_thread(thread, shortName)
    }
}
