import FoundationEssentials
import Glibc
import Diagnostics

/// Finds gantry's `templates/` directory: `$GANTRY_TEMPLATES`, then
/// `<prefix>/share/gantry/templates` beside an installed binary, then the first
/// `templates/` found walking up from the executable (a build inside the repository).
public enum TemplateLocator {
    public static func directory() throws -> String {
        let fileManager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["GANTRY_TEMPLATES"], !configured.isEmpty {
            return configured
        }
        // argv[0] is just "gantry" when started through PATH; the kernel knows the real file.
        let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let executable = URL(fileURLWithPath: selfPath).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        let installed = directory.deletingLastPathComponent().appendingPathComponent("share/gantry/templates").path
        if fileManager.fileExists(atPath: installed) { return installed }
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("templates").path
            if fileManager.fileExists(atPath: candidate + "/gantry.yaml") { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw Failure(.missingInput, "cannot find gantry's templates directory; set GANTRY_TEMPLATES to the templates/ folder of the gantry sources")
    }
}
