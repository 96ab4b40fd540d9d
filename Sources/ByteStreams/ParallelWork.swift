import Foundation

/// Runs `work` for every item on up to `width` dedicated threads (blocking curl
/// transfers must stay off Swift's cooperative pool) and rethrows the first error
/// after all threads have stopped.
public enum ParallelWork {
    public static func run<Item: Sendable>(_ items: [Item], width: Int, _ work: @escaping @Sendable (Item) throws -> Void) throws {
        let state = ParallelWorkState()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(width, items.count)) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    state.lock.lock()
                    guard state.firstError == nil, state.next < items.count else { state.lock.unlock(); return }
                    let item = items[state.next]
                    state.next += 1
                    state.lock.unlock()
                    do { try work(item) } catch {
                        state.lock.lock()
                        if state.firstError == nil { state.firstError = error }
                        state.lock.unlock()
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = state.firstError { throw error }
    }
}

/// The shared cursor and first error of a `ParallelWork.run`.
private final class ParallelWorkState: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var firstError: Error?
}
