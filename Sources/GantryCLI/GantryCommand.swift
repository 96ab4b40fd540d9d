import FoundationEssentials
import Glibc
import ArgumentParser
import Diagnostics
import CShims
import HTTP

/// The `gantry` command and its subcommands.
public struct GantryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Build, ship and deploy OCI images for AI web apps without a container daemon.",
        version: VersionText.full,
        subcommands: [BuildCommand.self, TestCommand.self, PushCommand.self, DeployCommand.self, ResolveCommand.self, InspectCommand.self,
                      LoginCommand.self, ModelCommand.self, StoreCommand.self, InitCommand.self, BuildJobCommand.self,
                      SignCommand.self, VerifyCommand.self, SignBlobCommand.self, VerifyBlobCommand.self, KeyCommand.self, SBOMCommand.self, PackagesCommand.self, LockCommand.self])

    public init() {}

    /// Parses the command line and runs it; a `GantryError` becomes one line on
    /// standard error and its documented exit code (see docs/errors.md, "Exit codes").
    public static func runMain() -> Never {
        // Serve the 1 MiB compression buffers from the heap and reuse them, instead of
        // a fresh mmap (and a page fault per 4 KiB) for every block: a third less
        // system time on a multi-GB layer.
        gantry_reuse_large_allocations()
        // A peer that goes away (kubectl exiting early, a dropped socket) must give an
        // error from write(), not kill gantry with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // --help and --version end parsing with success; anything else is a usage
            // error, shown in gantry's own one-line form with exit 64 like every other.
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            let cleaned = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            StandardError.write("gantry: error: \(cleaned) (see 'gantry help')\n")
            Glibc.exit(FailureKind.usage.exitCode)
        }
        do {
            // Network limits from the environment first; a command's flags may narrow them.
            NetworkLimits.set(try NetworkLimits.fromEnvironment(ProcessInfo.processInfo.environment))
            try command.run()
            Glibc.exit(0)
        } catch let error as GantryError {
            StandardError.write("gantry: error: \(error)\n")
            Glibc.exit(error.kind.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
