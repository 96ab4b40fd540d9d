import FoundationEssentials
import Glibc
import CShims
import Threads

/// Runs a program to completion: gantry's one way to start a child process
/// (credential helpers, pip, git, kubectl). Standard input is written and standard
/// error read on their own threads, so a child that writes a lot while its input
/// is still being fed cannot deadlock against gantry.
public struct Subprocess: Sendable {
    /// An absolute path, or a name looked up on PATH.
    public var program: String
    public var arguments: [String]
    /// Bytes for standard input (nil: /dev/null). Never put on the command line: a secret may be among them.
    public var input: [UInt8]?
    /// Drop standard output instead of collecting it (pip's progress chatter).
    public var discardOutput = false
    /// Send standard output and error to this file (appended) instead of collecting
    /// them: for a child that leaves a process behind holding them (`runc run --detach`).
    public var outputFile: String?
    /// Seconds after which the child is killed (SIGKILL) and `timedOut` reported; nil: none.
    /// Only the child itself: what it started may live on (a container's exec'd process
    /// dies with the container).
    public var timeout: Double?
    public var environment: [String: String]?

    public init(_ program: String, _ arguments: [String], input: [UInt8]? = nil) {
        self.program = program
        self.arguments = arguments
        self.input = input
    }

    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
        /// Killed at `timeout`.
        public var timedOut = false

        /// The last non-blank line of standard error, else the exit status: for one-line messages.
        public var lastErrorLine: String {
            errors.split(separator: "\n").last(where: { !$0.trimmingWhitespace().isEmpty })
                .map { $0.trimmingWhitespace() } ?? "exit status \(status)"
        }
    }

    /// The program could not be started (not found, not executable).
    public struct LaunchFailure: Error, CustomStringConvertible {
        public let program: String
        public let reason: String
        public var description: String { "cannot run \(program): \(reason)" }
    }

    /// Finds `name` on PATH (a path with a slash is taken as it is).
    public static func locate(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        return (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs the program and waits for it. `lines` receives standard output line by
    /// line as it arrives (progress from a long-running kubectl); it is collected too.
    ///
    /// posix_spawn and waitpid, not Foundation's Process: on Linux its
    /// `waitUntilExit` polls the run loop every 50 ms, which made each `git` call of a
    /// build cost ~45 ms for 2 ms of work.
    public func run(lines: (@Sendable (String) -> Void)? = nil) throws -> Result {
        guard let executable = Self.locate(program) else {
            throw LaunchFailure(program: program, reason: program.contains("/") ? "no executable file there" : "not found on PATH")
        }
        let stdinPipe = try input.map { _ in try Pipe.make(program) }
        let stdoutPipe = discardOutput || outputFile != nil ? nil : try Pipe.make(program)
        let stderrPipe = outputFile != nil ? nil : try Pipe.make(program)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw LaunchFailure(program: program, reason: "cannot open /dev/null") }
        defer { close(devNull) }
        var outputDescriptor: Int32 = -1
        if let outputFile {
            outputDescriptor = open(outputFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard outputDescriptor >= 0 else {
                throw LaunchFailure(program: program, reason: "cannot open \(outputFile): \(String(cString: strerror(errno)))")
            }
        }
        defer { if outputDescriptor >= 0 { close(outputDescriptor) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The pipes are close-on-exec; dup2 gives the child its ends as 0, 1 and 2 only.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe?.read ?? devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor >= 0 ? outputDescriptor : stdoutPipe?.write ?? devNull, 1)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor >= 0 ? outputDescriptor : stderrPipe?.write ?? devNull, 2)
        // Nothing else of this process reaches the child (not every descriptor is close-on-exec).
        guard gantry_spawn_close_from(&actions, 3) == 0 else {
            throw LaunchFailure(program: program, reason: "cannot prepare its file descriptors")
        }

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let variables: [String: String] = environment ?? ProcessInfo.processInfo.environment
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { key, value in strdup(key + "=" + value) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        // The child has its copies; these ends are the parent's no longer.
        if let stdinPipe { close(stdinPipe.read) }
        if let stdoutPipe { close(stdoutPipe.write) }
        if let stderrPipe { close(stderrPipe.write) }
        guard spawned == 0 else {
            if let stdinPipe { close(stdinPipe.write) }
            if let stdoutPipe { close(stdoutPipe.read) }
            if let stderrPipe { close(stderrPipe.read) }
            throw LaunchFailure(program: program, reason: String(cString: strerror(spawned)))
        }

        // Started first: a child that never ends its output is killed on time too.
        let watchdog: Watchdog?
        do {
            watchdog = try timeout.map { try Watchdog(pid: pid, seconds: $0, program: program) }
        } catch {
            Self.abandon(pid, closing: [stdinPipe?.write, stdoutPipe?.read, stderrPipe?.read])
            throw error
        }
        do {
            if let input, let stdinPipe {
                let bytes = input, descriptor = stdinPipe.write
                try DedicatedThread.start(name: "subprocess-in") {
                    // The child may exit without reading it all (EPIPE; SIGPIPE is ignored): its status tells why.
                    bytes.withUnsafeBytes { raw in
                        guard let base = raw.baseAddress else { return }
                        var offset = 0
                        while offset < raw.count {
                            let written = Glibc.write(descriptor, base + offset, raw.count - offset)
                            if written < 0 && errno == EINTR { continue }
                            if written <= 0 { break }
                            offset += written
                        }
                    }
                    close(descriptor)
                }
            }
        } catch {
            // No thread to feed it: the child must not wait for input that never comes.
            Self.abandon(pid, closing: [stdinPipe?.write, stdoutPipe?.read, stderrPipe?.read])
            throw LaunchFailure(program: program, reason: "cannot start a thread to write its input")
        }
        let collectedErrors = Pending<String>()
        if let errorDescriptor = stderrPipe?.read {
            do {
                try DedicatedThread.start(name: "subprocess-err") {
                    collectedErrors.fulfil(String(decoding: Self.readAll(errorDescriptor), as: UTF8.self))
                    close(errorDescriptor)
                }
            } catch {
                // The input writer (if any) ends on EPIPE once the child is gone and closes its end itself.
                Self.abandon(pid, closing: [stdoutPipe?.read, errorDescriptor])
                throw LaunchFailure(program: program, reason: "cannot start a thread to read its errors")
            }
        } else {
            collectedErrors.fulfil("")
        }

        var collected: [UInt8] = []
        if let stdoutPipe {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let got = buffer.withUnsafeMutableBytes { Glibc.read(stdoutPipe.read, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                collected.append(contentsOf: buffer[0..<got])
                guard let lines else { continue }
                pending.append(contentsOf: buffer[0..<got])
                while let newline = pending.firstIndex(of: 10) {
                    lines(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            close(stdoutPipe.read)
        }
        var status: Int32 = 0
        // Waited for without reaping first: the watchdog must never kill a reused pid.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        let timedOut = watchdog?.finish() ?? false
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { break }
        }
        // Exited: the code; killed by a signal: 128 + its number, as shells report it.
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitStatus, output: String(decoding: collected, as: UTF8.self), errors: collectedErrors.wait(),
                      timedOut: timedOut)
    }

    /// Kills the child when its time is up, unless `finish` came first.
    private final class Watchdog: @unchecked Sendable {
        private let condition = Condition()
        private var finished = false
        private var fired = false

        init(pid: pid_t, seconds: Double, program: String) throws {
            let deadline = Condition.deadline(after: seconds)
            do {
                try DedicatedThread.start(name: "subprocess-timer") { [self] in
                    condition.lock()
                    defer { condition.unlock() }
                    while !finished {
                        if !condition.wait(until: deadline) {
                            if !finished { fired = true; _ = kill(pid, SIGKILL) }
                            return
                        }
                    }
                }
            } catch {
                throw LaunchFailure(program: program, reason: "cannot start a thread to time it")
            }
        }

        /// The child has exited (not yet reaped): stops the timer; true when it was the timer that killed it.
        func finish() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            finished = true
            condition.signal()
            return fired
        }
    }

    /// Kills and reaps a child gantry cannot look after, and closes its pipes.
    private static func abandon(_ pid: pid_t, closing descriptors: [Int32?]) {
        _ = kill(pid, SIGKILL)  // it may have exited already (ESRCH): reaped just the same
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        for case let descriptor? in descriptors { close(descriptor) }
    }

    private static func readAll(_ descriptor: Int32) -> [UInt8] {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { return all }
            all.append(contentsOf: buffer[0..<got])
        }
    }

    /// A close-on-exec pipe.
    private struct Pipe {
        let read: Int32
        let write: Int32

        static func make(_ program: String) throws -> Pipe {
            var ends: [Int32] = [0, 0]
            guard gantry_pipe_cloexec(&ends) == 0 else {
                throw LaunchFailure(program: program, reason: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            return Pipe(read: ends[0], write: ends[1])
        }
    }
}
