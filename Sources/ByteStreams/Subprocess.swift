import Foundation

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

        /// The last non-blank line of standard error, else the exit status: for one-line messages.
        public var lastErrorLine: String {
            errors.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? "exit status \(status)"
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
    public func run(lines: (@Sendable (String) -> Void)? = nil) throws -> Result {
        guard let executable = Self.locate(program) else {
            throw LaunchFailure(program: program, reason: program.contains("/") ? "no executable file there" : "not found on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = discardOutput ? FileHandle.nullDevice : output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do { try process.run() } catch {
            throw LaunchFailure(program: program, reason: "\(error)")
        }
        if let input {
            let handle = stdin.fileHandleForWriting
            let data = Data(input)
            Thread.detachNewThread {
                // The child may exit without reading it all; its exit status tells why.
                try? handle.write(contentsOf: data)
                try? handle.close()
            }
        }
        let collectedErrors = Pending<String>()
        let errorReader = Thread {
            collectedErrors.fulfil(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        errorReader.start()
        var collected = Data()
        if !discardOutput {
            let reader = output.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collected.append(chunk)
                guard let lines else { continue }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 10) {
                    lines(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: collected, as: UTF8.self),
                      errors: collectedErrors.wait())
    }
}
