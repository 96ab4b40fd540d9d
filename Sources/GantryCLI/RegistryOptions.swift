import ArgumentParser
import Registry
import HTTP
import Diagnostics

/// Flags shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: "Use plain HTTP for this host[:port] (loopback registries always do). Repeatable.")
    var insecureRegistries: [String] = []

    @Option(help: "Extra CA bundle (PEM) to trust, besides the system's.")
    var caFile: String?

    @Option(help: "Upload chunk size in MiB (default 16; blobs up to it go in one request).")
    var chunkSize: Int?

    @Flag(help: "Upload every blob in one request (registries without chunked upload).")
    var monolithic = false

    @Option(help: "Blobs transferred at once (default 3).")
    var parallel: Int?

    @Flag(help: "Log every HTTP request (method, redacted URL, status, time) to standard error.")
    var verbose = false

    @Option(help: ArgumentHelp("Seconds to open a connection (default 10; GANTRY_CONNECT_TIMEOUT).", valueName: "seconds"))
    var connectTimeout: String?

    @Option(help: ArgumentHelp("Seconds a transfer or an answer may not move before the attempt is abandoned (default 30; GANTRY_STALL_TIMEOUT).", valueName: "seconds"))
    var stallTimeout: String?

    @Option(help: ArgumentHelp("Seconds an operation may retry without progress before gantry gives up (default 60; GANTRY_RETRY_TIMEOUT).", valueName: "seconds"))
    var retryTimeout: String?

    /// Applies the timeout flags to the process's `NetworkLimits` (model downloads
    /// and every registry session read them).
    func applyNetworkLimits() throws {
        var limits = NetworkLimits.values
        if let connectTimeout { limits.connectTimeout = try NetworkLimits.parseSeconds(connectTimeout, name: "--connect-timeout") }
        if let stallTimeout { limits.stallTimeout = try NetworkLimits.parseSeconds(stallTimeout, name: "--stall-timeout") }
        if let retryTimeout { limits.retryTimeout = try NetworkLimits.parseSeconds(retryTimeout, name: "--retry-timeout") }
        NetworkLimits.set(limits)
    }

    func settings() throws -> RegistrySettings {
        try applyNetworkLimits()
        var settings = RegistrySettings()
        settings.sessions = .command
        settings.insecureRegistries = insecureRegistries
        settings.http.caFile = caFile
        settings.http.verbose = verbose
        if let chunkSize {
            guard chunkSize >= 1 && chunkSize <= 4096 else { throw Failure(.usage, "--chunk-size must be 1 to 4096 MiB") }
            settings.upload.chunkSize = Int64(chunkSize) << 20
            settings.upload.monolithicLimit = Int64(chunkSize) << 20
        }
        settings.upload.monolithicOnly = monolithic
        if let parallel {
            guard parallel >= 1 && parallel <= 32 else { throw Failure(.usage, "--parallel must be 1 to 32") }
            settings.upload.parallelBlobs = parallel
        }
        return settings
    }
}
