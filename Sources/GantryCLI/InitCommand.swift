import FoundationEssentials
import Glibc
import ArgumentParser
import ContentStore
import ByteStreams
import Recipes
import ProjectImport
import Diagnostics
import SystemSupport
import ImageBuild

/// `gantry init [DIR]`: reads the project a team already has — its Dockerfile,
/// requirements or lock, Procfile, web-app module and model files — and writes
/// a gantry.yaml whose every value names its evidence (`ProjectImporter`). An
/// empty directory gets the commented starter recipe from templates/.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write gantry.yaml for a project from its Dockerfile, requirements and files.",
        discussion: "Prints what was not translated (RUN steps gantry does not run) with what to do instead. An existing gantry.yaml is kept unless --force.")

    @Argument(help: "The project directory.")
    var directory = "."

    @Option(help: "Read this Dockerfile (default: DIR/Dockerfile when it exists).")
    var fromDockerfile: String?

    @Flag(help: "Print the recipe and what was not translated; write nothing.")
    var check = false

    @Flag(help: "Replace an existing gantry.yaml (the difference is shown).")
    var force = false

    @Flag(help: "Do not write gantry.lock (by default it is written when the base and sources can be reached).")
    var noLock = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        guard PathName.isDirectory(directory) == true else {
            throw Failure(.cannotCreateOutput, "directory \(directory) does not exist; create it first")
        }
        let target = directory + "/gantry.yaml"
        let existing = try? FileReader.readSmallFile(target)
        if existing != nil && !force && !check {
            throw Failure(.cannotCreateOutput, "\(target) already exists; pass --force to replace it (the difference is shown), or --check to see what would be written")
        }
        let importer = ProjectImporter(directory: directory, dockerfilePath: fromDockerfile)
        if fromDockerfile == nil && !importer.hasProject {
            guard !check else { print("# nothing to read in \(directory): gantry init would write the starter recipe"); return }
            let template = try TemplateLocator.directory() + "/gantry.yaml"
            try AtomicFile.write(try FileReader.readSmallFile(template), to: target)
            print("wrote \(target) (a starter: no Dockerfile, requirements or Python files found); edit it, then run 'gantry build'")
            return
        }
        let result = try importer.run()
        let text = result.draft.yaml
        // What init writes must be a recipe gantry reads: checked here, not by the user's first build.
        do { _ = try Recipe.parse(text, source: target, directory: directory) } catch {
            throw Failure(.internalFailure, "gantry init made a recipe it cannot read (\(error)); this is a bug in gantry")
        }
        for line in result.untranslated { StandardError.write("not translated: \(line)\n") }
        for line in result.notes { StandardError.write("note: \(line)\n") }
        if check {
            print(text, terminator: "")
            for file in result.files { print("# and \(file.name):\n" + file.content.split(separator: "\n").map { "#   " + $0 }.joined(separator: "\n")) }
            return
        }
        for file in result.files {
            let path = directory + "/" + file.name
            if let old = try? FileReader.readSmallFile(path), old != Array(file.content.utf8), !force {
                throw Failure(.cannotCreateOutput, "\(path) already exists and differs; pass --force to replace it")
            }
        }
        if let existing, String(decoding: existing, as: UTF8.self) != text {
            StandardError.write("replacing \(target):\n")
            for line in LineDiff.lines(from: String(decoding: existing, as: UTF8.self), to: text) { StandardError.write("  \(line)\n") }
        }
        for file in result.files { try AtomicFile.write(Array(file.content.utf8), to: directory + "/" + file.name) }
        try AtomicFile.write(Array(text.utf8), to: target)
        let also = result.files.isEmpty ? "" : " and " + result.files.map(\.name).joined(separator: ", ")
        print("wrote \(target)\(also); check the values it names evidence for, then run 'gantry build --test'")
        if !noLock { writeFirstLock(recipe: target) }
    }

    /// The first gantry.lock, when the base, the indexes and the models can be reached
    /// now; otherwise a note (the recipe is written either way).
    private func writeFirstLock(recipe: String) {
        let path = LockCommand.path(besideRecipe: recipe)
        do {
            var request = BuildRequest()
            try request.apply(try Recipe.load(path: recipe))
            request.contextDirectory = directory
            let lock = try Builder(store: try store.open()).lock(request)
            try AtomicFile.write(Array(try lock.text().utf8), to: path)
            print("wrote \(path): the base, wheels, OS packages and model as they are now (commit it; 'gantry build --locked' builds them)")
        } catch {
            StandardError.write("note: \(path) not written (\(error)); run 'gantry lock' once the base and sources can be reached\n")
        }
    }
}
