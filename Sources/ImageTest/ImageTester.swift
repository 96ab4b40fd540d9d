import FoundationEssentials
import Glibc
import OCI
import Images
import Recipes
import Layering
import ContentStore
import ByteStreams
import CShims
import Diagnostics
import Threads
import SystemSupport

/// What to test: an image whose blobs are all in `store`, and the plan.
public struct ImageTestRequest: Sendable {
    public var image: ImageManifest
    public var store: ContentStore
    /// The image as the user named it, for messages and the JUnit suite name.
    public var description: String
    public var plan: TestPlan
    /// Leave the bundle (rootfs, config.json, container.log) for debugging; the
    /// layers are then unpacked in full, so that the bundle stands on its own.
    public var keep = false
    /// The store whose cache keeps layers unpacked between runs (as root); nil:
    /// unpack in full every time.
    public var unpackCache: ContentStore?
    /// Where the bundle is made (default: $TMPDIR, else /var/tmp: disk, not memory, for big models).
    public var workDirectory: String?
    /// Images mounted read-only into the container, as Kubernetes image volumes
    /// mount them (the model image at the model's directory).
    public var imageVolumes: [ImageVolume] = []

    public init(image: ImageManifest, store: ContentStore, description: String, plan: TestPlan) {
        self.image = image
        self.store = store
        self.description = description
        self.plan = plan
    }
}

/// An image mounted into the container: its layers, unpacked into a directory of
/// the bundle, bound read-only at `mountPath` — what the kubelet does for an
/// `image` volume.
public struct ImageVolume: Sendable {
    public var layers: [Descriptor]
    public var mountPath: String
    /// The mounted image's labels: `${label:…}` and `${MODEL_SHA256}` see them
    /// (the app image of a model image records no model digest of its own).
    public var labels: [String: String]
    /// Where its blobs are, when not in the tested image's store.
    public var store: ContentStore?

    public init(layers: [Descriptor], mountPath: String, labels: [String: String] = [:], store: ContentStore? = nil) {
        self.layers = layers
        self.mountPath = mountPath
        self.labels = labels
        self.store = store
    }
}

/// `gantry test`: unpacks the image into a runtime bundle with gantry's own
/// unpacker, runs it with runc (rootless when not root) in namespaces of its own,
/// waits until the app answers, runs the plan's checks, and always removes the
/// container and the bundle — on success, failure, timeout and Ctrl-C.
public enum ImageTester {
    public static func run(_ request: ImageTestRequest, progress: (String) -> Void,
                           reported: (CheckResult) -> Void) throws -> TestOutcome {
        let clock = ContinuousClock(), started = clock.now
        let config = request.image.config.config ?? ContainerConfig()
        let arguments = (config.entrypoint ?? []) + (config.cmd ?? [])
        guard !arguments.isEmpty else {
            throw Failure(.invalidInput, "\(request.description) has no entrypoint or cmd, so there is nothing to run; set 'entrypoint:' in gantry.yaml (or --entrypoint) and build again")
        }
        guard let port = try request.plan.port ?? firstTCPPort(config.exposedPorts, image: request.description) else {
            throw Failure(.usage, "\(request.description) exposes no port to test; set 'test.port' in gantry.yaml or pass --port")
        }
        let platform = request.image.config.platform
        guard platform.os == "linux", platform.architecture == Platform.host.architecture else {
            throw Failure(.unavailable, "\(request.description) is for \(platform) and this machine runs \(Platform.host): gantry test runs images natively, without emulation; test it on a \(platform.architecture) machine")
        }
        for (number, layer) in request.image.manifest.layers.enumerated() where access(request.store.blobPath(layer.digest), R_OK) != 0 {
            throw Failure(.missingInput, "layer \(number + 1) (\(layer.digest.short)) of \(request.description) is not in \(request.store.root)")
        }
        let runc = try Runc.locate()
        let rootless = geteuid() != 0
        if rootless { try RootlessMapping.checkUserNamespaces() }

        StaleRuns.clean(bundles: TestSession.parentDirectory(request.workDirectory), runc: runc, progress: progress)
        let session = try TestSession.create(in: request.workDirectory, runc: runc, keep: request.keep)
        let token = try Interrupts.register { session.finish() }
        defer {
            session.finish()
            Interrupts.unregister(token)
        }

        // The image's layers: stacked by an overlay mount of layers unpacked once
        // each (root), else unpacked in order into the bundle's rootfs.
        let rootfs = session.bundle + "/rootfs"
        let unpackStart = clock.now
        var overlaid = false
        if let cache = request.unpackCache, !rootless, !request.keep {
            do {
                let prepared = try LayerSnapshots(cache: cache).prepare(request.image.manifest.layers, blobs: request.store)
                try session.mountOverlay(prepared.directories)
                overlaid = true
                let cached = request.image.manifest.layers.count - prepared.unpackedLayers
                progress("layers: \(cached) already unpacked, \(prepared.unpackedLayers) unpacked (\(ByteCount.format(prepared.unpackedBytes))) in \(cFormat("%.2f", CheckRunner.seconds(since: unpackStart, clock))) s; overlay mounted at \(rootfs)")
            } catch let failure as Failure where failure.kind == .invalidInput {
                throw failure
            } catch {
                progress("overlay not available (\(error)): unpacking in full")
            }
        }
        if !overlaid {
            let unpacker = try LayerUnpacker(root: rootfs)
            var special = 0
            for (number, layer) in request.image.manifest.layers.enumerated() {
                special += try unpacker.apply(layer: request.store.blobPath(layer.digest), role: "layer \(number + 1) (\(layer.digest.short))").specialFiles
            }
            let total = request.image.manifest.layers.reduce(Int64(0)) { $0 + $1.size }
            progress("unpacked \(request.image.manifest.layers.count) layers (\(ByteCount.format(total))) in \(cFormat("%.2f", CheckRunner.seconds(since: unpackStart, clock))) s"
                     + (special > 0 ? "; \(special) device/FIFO entries skipped (the runtime provides /dev)" : ""))
        }
        let unpacker = try LayerUnpacker(root: rootfs)
        var volumeMounts: [(source: String, destination: String)] = []
        for (number, volume) in request.imageVolumes.enumerated() {
            let directory = session.bundle + "/volume-\(number + 1)"
            let volumeUnpacker = try LayerUnpacker(root: directory)
            for layer in volume.layers {
                _ = try volumeUnpacker.apply(layer: (volume.store ?? request.store).blobPath(layer.digest), role: "image volume layer \(layer.digest.short)")
            }
            volumeMounts.append((directory, volume.mountPath))
            progress("image volume \(number + 1): \(volume.layers.count) layer\(volume.layers.count == 1 ? "" : "s") mounted read-only at \(volume.mountPath)")
        }

        // The process, from the image config, with the plan's variables over the image's.
        let user = try ImageUser.resolve(config.user, passwd: unpacker.readFile("etc/passwd", limit: 4 << 20).map { String(decoding: $0, as: UTF8.self) },
                                         group: unpacker.readFile("etc/group", limit: 4 << 20).map { String(decoding: $0, as: UTF8.self) })
        let environment = Self.environment(image: config.env ?? [], overrides: request.plan.env, user: user)
        let mapping = rootless ? RootlessMapping.forCaller(running: user) : nil
        if let warning = mapping?.warning { Warnings.emit(warning) }
        let process = RuntimeProcess(args: arguments, env: environment, cwd: config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
                                     user: mapping?.runsAs ?? user)
        // As Docker and Kubernetes do: /etc/hosts names localhost (a base image may have none, and a
        // health check that asks for http://localhost/ would fail), /etc/hostname the container's name.
        try AtomicFile.write(Array("127.0.0.1\tlocalhost \(RuntimeConfig.hostname)\n::1\tlocalhost ip6-localhost ip6-loopback\n".utf8),
                             to: session.bundle + "/hosts", durable: false)
        try AtomicFile.write(Array("\(RuntimeConfig.hostname)\n".utf8), to: session.bundle + "/hostname", durable: false)
        let binds = volumeMounts + [(session.bundle + "/hosts", "/etc/hosts"), (session.bundle + "/hostname", "/etc/hostname")]
        let document = RuntimeConfig.document(process: process, uidMappings: mapping?.uids, gidMappings: mapping?.gids,
                                              readOnlyBinds: binds)
        try AtomicFile.write(try CanonicalJSON.encode(document), to: session.bundle + "/config.json", durable: false)

        try session.start()
        progress("started \(session.id) with runc\(rootless ? " (rootless)" : ""): \(arguments.joined(separator: " "))")
        let state = try runc.state(id: session.id)
        let connector = try NamespaceConnector(containerProcess: state.pid)
        defer { connector.close() }
        let variables = TestVariables(imageDigest: request.image.descriptor.digest.description,
                                      labels: request.imageVolumes.reduce(into: [String: String]()) { $0.merge($1.labels) { $1 } }
                                          .merging(config.labels ?? [:]) { $1 },
                                      environment: environment)
        let runner = CheckRunner(connector: connector, runc: runc, containerID: session.id, port: port,
                                 variables: variables, scratch: session.bundle)

        var results: [CheckResult] = []
        let ready = runner.waitUntilReady(request.plan.ready, containerProcess: state.pid)
        results.append(ready)
        Interrupts.waitIfInterrupted()
        reported(ready)
        if ready.passed {
            for (number, check) in request.plan.checks.enumerated() {
                let result = runner.run(check, number: number + 1)
                results.append(result)
                Interrupts.waitIfInterrupted()
                reported(result)
            }
        }
        connector.close()
        let output = session.outputTail(lines: 30)
        session.finish()
        var outcome = TestOutcome(image: request.description, results: results, containerOutput: output,
                                  keptBundle: request.keep ? session.bundle : nil, seconds: CheckRunner.seconds(since: started, clock))
        outcome.runcRoot = runc.stateRoot
        return outcome
    }

    /// `8080/tcp` → 8080: the lowest exposed TCP port.
    static func firstTCPPort(_ ports: [String: JSONValue]?, image: String) throws -> Int? {
        let tcp = (ports ?? [:]).keys.compactMap { key -> Int? in
            let parts = key.split(separator: "/")
            guard parts.count == 1 || parts[1] == "tcp" else { return nil }
            return Int(parts[0])
        }
        return tcp.min()
    }

    /// The image's variables, the plan's over them by name; PATH and HOME as runtimes default them.
    static func environment(image: [String], overrides: [EnvironmentVariable], user: ImageUser) -> [String] {
        var names: [String] = [], values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { names.append(name) }
            values[name] = value
        }
        for variable in image {
            guard let equals = variable.firstIndex(of: "=") else { continue }
            set(String(variable[..<equals]), String(variable[variable.index(after: equals)...]))
        }
        for variable in overrides { set(variable.name, variable.value) }
        if values["PATH"] == nil { set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") }
        if values["HOME"] == nil { set("HOME", user.home ?? "/") }
        if values["HOSTNAME"] == nil { set("HOSTNAME", "gantry-test") }
        return names.map { "\($0)=\(values[$0]!)" }
    }
}

/// One test container's bundle and life: made, started, and ended exactly once
/// (by the run, or by the interrupt handler), whatever happened in between.
final class TestSession: Sendable {
    let bundle: String
    let id: String
    let runc: Runc
    let keep: Bool
    private let state = Locked((started: false, finished: false, mounted: false))

    private init(bundle: String, id: String, runc: Runc, keep: Bool) {
        self.bundle = bundle
        self.id = id
        self.runc = runc
        self.keep = keep
    }

    /// Where bundles are made: `directory`, else $TMPDIR, else /var/tmp.
    static func parentDirectory(_ directory: String?) -> String {
        PathName.absolute(directory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp")
    }

    static func create(in directory: String?, runc: Runc, keep: Bool) throws -> TestSession {
        let parent = parentDirectory(directory)
        // gantry's pid in the name: the next run can tell a bundle whose gantry was killed (StaleRuns).
        var template = Array("\(parent)/gantry-test.\(getpid()).XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SystemError.failure("create a test bundle directory in", path: parent) }
        let bundle = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The container is visible to the other side of the bundle's name: `runc list` shows where it came from.
        let id = "gantry-test-\(getpid())-\(PathName.lastComponent(of: bundle).split(separator: ".").last ?? "run")"
        return TestSession(bundle: bundle, id: id, runc: runc, keep: keep)
    }

    var log: String { bundle + "/container.log" }

    /// Mounts the overlay of `lower` at the bundle's rootfs; `finish` unmounts it.
    func mountOverlay(_ lower: [String]) throws {
        try state.withLock { state in
            guard !state.finished else { throw Failure(.internalFailure, "test session \(id) ended before its rootfs was mounted") }
            try LayerSnapshots.mount(lower, at: bundle + "/rootfs", bundle: bundle)
            state.mounted = true
        }
    }

    func start() throws {
        try state.withLock { state in
            guard !state.finished else { throw Failure(.internalFailure, "test session \(id) ended before it started") }
            state.started = true
        }
        try runc.run(id: id, bundle: bundle, log: log)
    }

    /// What the container (and runc) wrote, trimmed for a report: see `ContainerOutput.excerpt`.
    func outputTail(lines: Int) -> [String] {
        guard let bytes = try? FileReader.readTail(log, count: 64 << 10) else { return [] }
        let all = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        return ContainerOutput.excerpt(all, tail: lines)
    }

    /// Kills and deletes the container, removes the bundle (unless kept). Idempotent.
    func finish() {
        let ended = state.withLock { state -> (started: Bool, mounted: Bool)? in
            guard !state.finished else { return nil }
            state.finished = true
            return (state.started, state.mounted)
        }
        guard let (started, mounted) = ended else { return }
        if started {
            runc.kill(id: id)
            if !runc.delete(id: id) {
                Warnings.emit("could not delete test container \(id); remove it with: runc --root \(runc.stateRoot) delete --force \(id)")
            }
        }
        if mounted && gantry_unmount_detached(bundle + "/rootfs") != 0 && errno != EINVAL {
            Warnings.emit("could not unmount \(bundle)/rootfs (\(String(cString: strerror(errno)))); unmount it with: umount -l \(bundle)/rootfs, then remove \(bundle)")
            return
        }
        guard !keep else {
            // Not stale when its gantry is gone: the next run leaves it alone.
            _ = FileManager.default.createFile(atPath: bundle + "/" + StaleRuns.keptMarker, contents: nil)
            return
        }
        do {
            // The whole bundle, rootfs (or the overlay's upper and work directories) included.
            try LayerUnpacker(root: bundle).removeAll()
        } catch {
            Warnings.emit("could not remove the test bundle \(bundle): \(error)")
        }
    }
}
