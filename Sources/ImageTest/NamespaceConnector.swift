import Glibc
import CShims
import ByteStreams
import Diagnostics
import Threads

/// Reaches ports on a container's own loopback. A helper process (CShims'
/// gantry_connector_start, forked from gantry) joins the container's network
/// namespace — and its user namespace first, rootless — and passes back TCP
/// sockets it made there; connected to 127.0.0.1 by libcurl, they reach the app. Nothing is published on the host, so
/// any number of test runs can use the same port at once.
final class NamespaceConnector: @unchecked Sendable {
    private let channel: Int32
    private let helper: pid_t
    // One request at a time on the channel; `closed` guards against use after close.
    private let lock = Condition()
    private var closed = false

    struct SocketFailure: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "cannot make a socket in the container's network namespace: \(String(cString: strerror(code)))" }
    }

    init(containerProcess pid: pid_t) throws {
        var channel: Int32 = -1, failure: Int32 = 0
        let helper = gantry_connector_start(pid, &channel, &failure)
        guard helper > 0 else {
            let reason = String(cString: strerror(failure))
            if failure == EPERM {
                throw Failure(.unavailable, "cannot enter the container's network namespace (process \(pid)): \(reason); run gantry test as the user that started runc")
            }
            throw Failure(.unavailable, "cannot enter the container's network namespace (process \(pid)): \(reason)")
        }
        self.channel = channel
        self.helper = helper
    }

    deinit { close() }

    /// A TCP socket (close-on-exec, not connected) in the container's network namespace.
    func makeSocket() throws -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw SocketFailure(code: ECONNABORTED) }
        var socket: Int32 = -1
        let code = gantry_connector_socket(channel, &socket)
        guard code == 0 else { throw SocketFailure(code: code) }
        return socket
    }

    /// Ends the helper (it exits when its channel closes) and reaps it.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Glibc.close(channel)
        var status: Int32 = 0
        while waitpid(helper, &status, 0) < 0 && errno == EINTR {}
    }
}
