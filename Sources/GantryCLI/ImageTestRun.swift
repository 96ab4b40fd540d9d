import FoundationEssentials
import Glibc
import ArgumentParser
import ByteStreams
import OCI
import Images
import ImageBuild
import ImageTest
import ContentStore
import Registry
import Recipes
import Diagnostics
import SystemSupport

/// Running an image's checks, as `gantry test` and `gantry build --test` both do:
/// the plan from the recipe and the flags, the image and where its layers come
/// from, and the run with its report. A helper of the commands, not a command.
enum ImageTestRun {
    /// The recipe's plan (when there is a recipe with one) with the flags over it.
    static func plan(recipeFile: String?, port: Int?, environment: [String], ready: String?, readyTimeout: Int?,
                     gets: [String]) throws -> TestPlan {
        let path = recipeFile ?? (FileManager.default.fileExists(atPath: "gantry.yaml") ? "gantry.yaml" : nil)
        var plan = try path.map { try Recipe.load(path: $0).test ?? TestPlan() } ?? TestPlan()
        if let port {
            guard (1...65535).contains(port) else { throw Failure(.usage, "--port \(port) is not a port (1-65535)") }
            plan.port = port
        }
        plan.env += try environment.map { try EnvironmentVariable(parsing: $0, source: "--env") }
        if let ready {
            // `tcp`, `/path` or `METHOD /path`, as in the recipe.
            let words = ready.split(separator: " ").map(String.init)
            if ready == "tcp" {
                plan.ready = ReadyProbe(path: "/", timeout: plan.ready.timeout)
                plan.ready.tcp = true
            } else if words.count <= 2, let path = words.last, path.hasPrefix("/"),
                      words.count == 1 || ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(words[0].uppercased()) {
                plan.ready.tcp = false
                plan.ready.path = path
                plan.ready.method = words.count == 2 ? words[0].uppercased() : "GET"
            } else {
                throw Failure(.usage, "--ready '\(ready)' is not a probe; give '/path', 'METHOD /path' or 'tcp'")
            }
        }
        if let readyTimeout {
            guard (1...3600).contains(readyTimeout) else { throw Failure(.usage, "--ready-timeout must be 1 to 3600 seconds") }
            plan.ready.timeout = readyTimeout
        }
        for path in gets {
            guard path.hasPrefix("/") else { throw Failure(.usage, "--get '\(path)' is not a request path; start it with '/'") }
            plan.checks.append(TestCheck(name: "GET \(path)", kind: .http(HTTPCheck(method: "GET", path: path)), location: "--get"))
        }
        return plan
    }

    /// Where the image named on the command line is read from.
    static func source(_ text: String?, store: ContentStore, registry: RegistryOptions) throws -> (any ManifestSource, String) {
        guard let text else {
            let (layout, descriptor) = try ImageSelector.resolve(nil, store: store)
            return (StoreSource(store: layout, root: descriptor, description: "the last build"), "the last build (\(descriptor.digest.short))")
        }
        if text.hasPrefix("oci-archive:") {
            guard case .ociArchive(let file) = try ImageLocation(parsing: text, role: "image") else {
                throw Failure(.usage, "image '\(text)' must be oci-archive:FILE")
            }
            return (OCIArchiveSource(file: file, store: store, role: "image"), text)
        }
        let named = text.hasPrefix("oci:") ? nil : try store.index.find(text)
        if text.hasPrefix("oci:") || named != nil {
            let (layout, descriptor) = try ImageSelector.resolve(text, store: store)
            return (StoreSource(store: layout, root: descriptor, description: text), text)
        }
        let reference = try Reference(parsing: text.hasPrefix("docker://") ? String(text.dropFirst(9)) : text)
        let puller = ImagePuller(store: store, session: try registry.settings().session(for: reference.registry), observer: nil)
        return (RegistrySource(reference: reference, puller: puller, role: "image"), text)
    }

    /// The image for `platform` with every layer in the store: layers a build left
    /// in a registry (a registry base's) are fetched into gantry's own store first.
    static func completeImage(_ source: any ManifestSource, platform: Platform, userStore: ContentStore,
                              registry: RegistryOptions) throws -> ImageManifest {
        if source is StoreSource, source.store.root == userStore.root {
            let inspected = try source.manifestAndConfig(platform: platform)
            try LayerBackfill(store: userStore, settings: try registry.settings(), observer: nil).fetchMissing(of: inspected.image.manifest)
        }
        guard case .manifest(let image) = try source.read(platform: platform) else {
            throw Failure(.internalFailure, "\(source.description): no single image for \(platform)")
        }
        return image
    }

    /// Runs the plan, prints one line per check, writes JUnit when asked; throws
    /// (exit 1) when a check failed. `resultsOnStandardError`: for `gantry build
    /// --test`, whose standard output is the digest alone.
    static func test(_ image: ImageManifest, store: ContentStore, cache: ContentStore, description: String, plan: TestPlan,
                     junit: String?, keep: Bool, resultsOnStandardError: Bool = false, volumes: [ImageVolume] = []) throws {
        let print: (String) -> Void = resultsOnStandardError ? { StandardError.write($0 + "\n") } : { Swift.print($0) }
        if let junit { try checkWritable(junit) }
        var request = ImageTestRequest(image: image, store: store, description: description, plan: plan)
        request.keep = keep
        request.unpackCache = cache
        request.imageVolumes = volumes
        let outcome = try ImageTester.run(request, progress: { StandardError.write("test   \($0)\n") }, reported: { result in
            let mark = result.passed ? "ok  " : "FAIL"
            print("\(mark)  \(result.name.padded(to: 44)) \(cFormat("%7.2f", result.seconds)) s")
            if let failure = result.failure {
                print("      \(failure)")
                for line in result.details.prefix(12) { print("      | \(line)") }
            }
        })
        let failed = outcome.results.filter { !$0.passed }.count
        if failed > 0 && !outcome.containerOutput.isEmpty {
            print("--- the container's last \(outcome.containerOutput.count) lines of output ---")
            for line in outcome.containerOutput { print("  \(line)") }
            print("---")
        }
        if let junit {
            let timestamp = rfc3339(secondsSince1970: Int64(time(nil)))
            try AtomicFile.write(Array(JUnitReport.xml(outcome, timestamp: timestamp).utf8), to: junit, durable: false)
        }
        if let kept = outcome.keptBundle {
            StandardError.write("""
            test   bundle kept: \(kept) (rootfs/, config.json, container.log)
            test   run it again:  runc --root \(outcome.runcRoot) run --bundle \(kept) gantry-debug
            test   and enter it from another shell:  runc --root \(outcome.runcRoot) exec -t gantry-debug /bin/sh
            test   remove it when done:  rm -rf \(kept)

            """)
        }
        let total = outcome.results.count
        guard failed == 0 else {
            throw Failure(.checksFailed, "\(failed) of \(total) checks failed for \(description) (\(cFormat("%.1f", outcome.seconds)) s)")
        }
        StandardError.write("test   \(total) of \(total) checks passed (\(cFormat("%.1f", outcome.seconds)) s)\n")
    }

    /// A JUnit path in a directory that exists: found out before the run, not after.
    private static func checkWritable(_ path: String) throws {
        let directory = PathName.parent(of: path)
        guard PathName.isDirectory(directory.isEmpty ? "." : directory) == true else {
            throw Failure(.cannotCreateOutput, "--junit \(path): directory \(directory) does not exist; create it first")
        }
    }
}
