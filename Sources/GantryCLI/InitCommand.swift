import FoundationEssentials
import Glibc
import ArgumentParser
import ImageBuild
import ContentStore
import ByteStreams
import Diagnostics
import SystemSupport

/// `gantry init`: writes a commented starter gantry.yaml from templates/.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write a commented starter gantry.yaml into a directory.")

    @Argument(help: "Directory to write gantry.yaml into.")
    var directory = "."

    @Flag(help: "Replace an existing gantry.yaml.")
    var force = false

    func run() throws {
        let target = directory + "/gantry.yaml"
        if FileManager.default.fileExists(atPath: target) && !force {
            throw Failure(.cannotCreateOutput, "\(target) already exists; pass --force to replace it")
        }
        guard PathName.isDirectory(directory) == true else {
            throw Failure(.cannotCreateOutput, "directory \(directory) does not exist; create it first")
        }
        let template = try TemplateLocator.directory() + "/gantry.yaml"
        try AtomicFile.write(try FileReader.readSmallFile(template), to: target)
        print("wrote \(target); edit it, then run 'gantry build'")
    }
}
