import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import SystemSupport

/// Debian's runc, driven through its command line: gantry's container runtime
/// for `gantry test`. As root it keeps its state where `runc list` looks
/// (/run/runc); rootless in $XDG_RUNTIME_DIR/runc, or /tmp/gantry-runc-UID.
struct Runc {
    let executable: String
    let stateRoot: String

    static func locate() throws -> Runc {
        guard let executable = Subprocess.locate("runc") else {
            throw Failure(.unavailable, "gantry test needs runc, which is not on PATH; install it (Debian: apt-get install runc)")
        }
        let stateRoot: String
        if geteuid() == 0 {
            stateRoot = "/run/runc"
        } else if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty,
                  access(runtime, W_OK) == 0 {
            stateRoot = runtime + "/runc"
        } else {
            stateRoot = "/tmp/gantry-runc-\(geteuid())"
        }
        return Runc(executable: executable, stateRoot: stateRoot)
    }

    private func command(_ arguments: [String]) -> Subprocess {
        Subprocess(executable, ["--root", stateRoot] + arguments)
    }

    /// Starts the container in the background; its output (and runc's) goes to `log`.
    func run(id: String, bundle: String, log: String) throws {
        var run = command(["run", "--detach", "--bundle", bundle, id])
        run.outputFile = log
        run.timeout = 60
        let result = try run.run()
        guard result.status == 0 else {
            let said = (try? FileReader.readSmallFile(log, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let line = said.split(separator: "\n").last(where: { $0.contains("runc") || $0.contains("error") }).map(String.init)
                ?? said.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            // runc made the container but the image's own process could not start (its
            // entrypoint is missing, not executable, or for another machine): the
            // image's fault, reported as a failed check, not as an unavailable runtime.
            if said.contains("unable to start container process: exec:") || said.contains("exec format error") {
                throw Failure(.checksFailed, "the container's process did not start: \(line.trimmingWhitespace()); fix the image's entrypoint/cmd")
            }
            throw Failure(.unavailable, "runc could not start the container: \(line.trimmingWhitespace())")
        }
    }

    /// The container's first process as the host sees it, and whether it still runs.
    func state(id: String) throws -> (pid: pid_t, running: Bool) {
        let result = try command(["state", id]).run()
        guard result.status == 0 else { throw Failure(.unavailable, "runc state \(id): \(result.lastErrorLine)") }
        struct State: Decodable { var pid: Int32; var status: String }
        guard let state = try? JSONDecoder().decode(State.self, from: Data(result.output.utf8)) else {
            throw Failure(.internalFailure, "runc state \(id) printed something that is not its JSON state")
        }
        return (state.pid, state.status == "running")
    }

    /// Runs `arguments` in the container as its process runs (user, cwd, env);
    /// output and errors together in `output` (a file, so that a command that
    /// leaves a child behind cannot hold gantry up).
    func exec(id: String, arguments: [String], output: String, timeout: Int) throws -> Subprocess.Result {
        var exec = command(["exec", id] + arguments)
        exec.outputFile = output
        exec.timeout = Double(timeout)
        return try exec.run()
    }

    /// The containers in this state directory: id and bundle.
    func list() -> [(id: String, bundle: String)] {
        guard let result = try? command(["list", "--format", "json"]).run(), result.status == 0 else { return [] }
        struct Entry: Decodable { var id: String; var bundle: String }
        // runc prints `null` when there are none.
        return ((try? JSONDecoder().decode([Entry]?.self, from: Data(result.output.utf8))) ?? nil)?.map { ($0.id, $0.bundle) } ?? []
    }

    func kill(id: String) {
        _ = try? command(["kill", id, "KILL"]).run()
    }

    /// Deletes the container, killing what is left of it; true when it is gone
    /// (or never was: `runc run` that failed removes its own).
    func delete(id: String) -> Bool {
        var delete = command(["delete", "--force", id])
        delete.timeout = 30
        guard let result = try? delete.run() else { return false }
        return result.status == 0 || result.errors.contains("does not exist")
    }
}
