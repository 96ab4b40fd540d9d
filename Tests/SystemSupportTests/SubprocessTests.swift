import Foundation
import Testing
import Synchronization

@testable import SystemSupport

/// The one subprocess runner, against real programs (sh, cat).
@Suite struct SubprocessTests {
    @Test func outputErrorsAndExitStatusComeBack() throws {
        let result = try Subprocess("sh", ["-c", "echo out; echo err >&2; echo last-err >&2; exit 3"]).run()
        #expect(result.status == 3 && result.output == "out\n" && result.errors == "err\nlast-err\n")
        #expect(result.lastErrorLine == "last-err")
    }

    /// Megabytes both ways at once: the writer and readers run apart, so neither side blocks.
    @Test func largeInputAndOutputDoNotDeadlock() throws {
        let input = Array(String(repeating: "0123456789abcdef\n", count: 200_000).utf8)
        let result = try Subprocess("cat", [], input: input).run()
        #expect(result.status == 0 && Array(result.output.utf8) == input)
    }

    @Test func linesArriveOneByOne() throws {
        let seen = Mutex<[String]>([])
        let result = try Subprocess("sh", ["-c", "printf 'a\\nb\\nc\\n'"]).run { line in seen.withLock { $0.append(line) } }
        #expect(seen.withLock { $0 } == ["a", "b", "c"] && result.output == "a\nb\nc\n")
    }

    @Test func aSignalIsReportedAsShellsDo() throws {
        #expect(try Subprocess("sh", ["-c", "kill -9 $$"]).run().status == 137)
    }

    @Test func theEnvironmentCanBeReplacedAndStdinIsEmptyByDefault() throws {
        var process = Subprocess("sh", ["-c", "echo \"$ONLY\"; cat"])
        process.environment = ["ONLY": "this", "PATH": "/usr/bin:/bin"]
        #expect(try process.run().output == "this\n")
    }

    @Test func aMissingProgramIsALaunchFailure() {
        #expect(throws: Subprocess.LaunchFailure.self) { try Subprocess("gantry-no-such-program", []).run() }
        #expect(throws: Subprocess.LaunchFailure.self) { try Subprocess("/nonexistent/tool", []).run() }
    }

    @Test func nothingLeaksIntoTheChild() throws {
        // Only 0, 1 and 2 are open in the child: the pipes are close-on-exec.
        let result = try Subprocess("sh", ["-c", "ls /proc/self/fd | wc -l"]).run()
        // ls itself opens the directory: 0, 1, 2 and that one.
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
    }

    @Test func aTimeoutKillsTheChildEvenWhenSomethingHoldsItsOutput() throws {
        // The grandchild keeps the output file open for 30 s: with a file (not a pipe) gantry does not wait for it.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-subprocess-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var process = Subprocess("sh", ["-c", "echo started; sleep 30 & sleep 30"])
        process.outputFile = directory + "/out.log"
        process.timeout = 0.5
        let started = Date()
        let result = try process.run()
        #expect(result.timedOut && result.status == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try String(contentsOfFile: directory + "/out.log", encoding: .utf8) == "started\n")
    }

    @Test func aChildThatEndsInTimeIsNotReportedAsTimedOut() throws {
        var process = Subprocess("sh", ["-c", "echo quick; exit 4"])
        process.timeout = 20
        let result = try process.run()
        #expect(!result.timedOut && result.status == 4 && result.output == "quick\n")
    }
}
