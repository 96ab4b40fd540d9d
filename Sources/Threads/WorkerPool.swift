import FoundationEssentials
import Glibc

/// gantry's one thread pool: a fixed set of dedicated threads running submitted
/// jobs in FIFO order.
///
/// Compression and transfers are blocking C calls (zlib, libcurl); running them on
/// these threads keeps them off Swift's cooperative pool (one thread per core),
/// where they would starve async code.
public final class WorkerPool: @unchecked Sendable {
    // The queue and flag are touched only under `condition`, hence @unchecked.
    private let condition = Condition()
    private var queue: [@Sendable () -> Void] = []
    private var stopping = false
    /// No thread could be started (the system is out of threads): jobs run on the
    /// caller's thread instead, slower but with the same results.
    /// Set once in init, before any job is submitted.
    private var inline = false

    public init(threads count: Int, name: String) {
        var started = 0
        for index in 0..<max(1, count) {
            do {
                try DedicatedThread.start(name: "\(name)-\(index)") { [self] in self.run() }
                started += 1
            } catch {
                break
            }
        }
        inline = started == 0
    }

    public func submit(_ job: @escaping @Sendable () -> Void) {
        if inline { job(); return }
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads finish queued jobs and exit.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty { condition.unlock(); return }
            let job = queue.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `work` for every item on a pool of up to `width` threads and rethrows
    /// the first error once every started job has stopped; after an error, items
    /// not yet started are skipped.
    public static func forEach<Item: Sendable>(_ items: [Item], width: Int, name: String,
                                               _ work: @escaping @Sendable (Item) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let firstError = Locked<(any Error)?>(nil)
        let pool = WorkerPool(threads: min(width, items.count), name: name)
        defer { pool.shutdown() }
        // Each thread takes the next item until none is left: one job per thread, not
        // one closure and completion per item (a model set may have 50,000 files).
        let next = Locked(0)
        let finished = (0..<min(width, items.count)).map { _ in Pending<Void>() }
        for done in finished {
            pool.submit {
                defer { done.fulfil(()) }
                while firstError.value == nil {
                    let index = next.withLock { next -> Int in
                        defer { next += 1 }
                        return next
                    }
                    guard index < items.count else { return }
                    do { try work(items[index]) } catch { firstError.withLock { if $0 == nil { $0 = error } } }
                }
            }
        }
        finished.forEach { $0.wait() }
        if let error = firstError.value { throw error }
    }
}
