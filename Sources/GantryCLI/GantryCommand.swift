import Foundation
import ArgumentParser
import Diagnostics

/// The `gantry` command and its subcommands.
public struct GantryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Build, ship and deploy OCI images for AI web apps without a container daemon.",
        subcommands: [BuildCommand.self, InitCommand.self])

    public init() {}

    /// Parses the command line and runs it; a `GantryError` becomes one line on
    /// standard error and its documented exit code (see README "Exit codes").
    public static func runMain() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let error as GantryError {
            StandardError.write("gantry: error: \(error)\n")
            Foundation.exit(error.kind.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
