import Glibc
import CShims
import ByteStreams
import Diagnostics
import Threads

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP during `gantry test`: the registered
/// cleanups run (container killed and deleted, bundle removed) before gantry
/// exits with 128 + the signal's number, as shells report it. The signal handler
/// only writes the signal's number to a pipe; a dedicated thread does the work.
public enum Interrupts {
    private static let cleanups = Locked<[Int: @Sendable () -> Void]>([:])
    private static let nextToken = Locked(0)
    private static let installed = Locked(false)
    private static let interrupted = Locked(false)
    nonisolated(unsafe) private static var pipeWrite: Int32 = -1

    /// Adds a cleanup; returns the token that removes it when the work ended normally.
    public static func register(_ cleanup: @escaping @Sendable () -> Void) throws -> Int {
        try installOnce()
        let token = nextToken.withLock { $0 += 1; return $0 }
        cleanups.withLock { $0[token] = cleanup }
        return token
    }

    /// Removes a cleanup. Once a signal has arrived the handler owns the exit
    /// (its cleanups may still be running): the caller waits here for it instead
    /// of reporting a result, or an exit code, of its own.
    public static func unregister(_ token: Int) {
        _ = cleanups.withLock { $0.removeValue(forKey: token) }
        waitIfInterrupted()
    }

    /// Blocks for good once a signal has arrived (the handler exits the process).
    public static func waitIfInterrupted() {
        guard interrupted.value else { return }
        while true { pause() }
    }

    private static func installOnce() throws {
        try installed.withLock { done in
            guard !done else { return }
            var ends: [Int32] = [0, 0]
            guard gantry_pipe_cloexec(&ends) == 0 else { throw SystemError.failure("create a pipe", path: "for signals") }
            pipeWrite = ends[1]
            let readEnd = ends[0]
            try DedicatedThread.start(name: "interrupts") {
                var signalNumber: UInt8 = 0
                while read(readEnd, &signalNumber, 1) < 0 && errno == EINTR {}
                interrupted.withLock { $0 = true }
                StandardError.write("\ngantry: interrupted; cleaning up\n")
                let pending = cleanups.withLock { all in defer { all = [:] }; return all }
                for cleanup in pending.sorted(by: { $0.key > $1.key }) { cleanup.value() }
                exit(128 + Int32(signalNumber))
            }
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number) { received in
                    var byte = UInt8(truncatingIfNeeded: received)
                    _ = write(Interrupts.pipeWrite, &byte, 1)
                }
            }
            done = true
        }
    }
}
