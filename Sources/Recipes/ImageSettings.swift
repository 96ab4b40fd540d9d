import OCI
import Diagnostics

/// The config fields a build sets on top of the base's: what the recipe says
/// (`Recipe.settings`), then the flags over it (`BuildRequest.settings`).
public struct ImageSettings: Sendable, Equatable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [EnvironmentVariable] = []
    public var workdir: String?
    public var user: String?
    public var ports: [String] = []
    public var volumes: [String] = []
    public var labels: [String: String] = [:]
    public var stopSignal: String?

    public init() {}

    /// Applies these settings to a config inherited from the base.
    public func apply(to config: inout ContainerConfig) throws {
        if let entrypoint {
            config.entrypoint = entrypoint
            // Docker semantics: a new entrypoint resets an inherited cmd.
            if cmd == nil { config.cmd = nil }
        }
        if let cmd { config.cmd = cmd }
        if !env.isEmpty { config.env = Self.merge(config.env ?? [], env) }
        if let workdir {
            guard workdir.hasPrefix("/") else { throw Failure(.usage, "workdir '\(workdir)' must be an absolute path") }
            config.workingDir = workdir
        }
        if let user { config.user = user }
        if !ports.isEmpty {
            var exposed = config.exposedPorts ?? [:]
            for port in ports { exposed[try InputRules.port(port)] = .object([:]) }
            config.exposedPorts = exposed
        }
        if !volumes.isEmpty {
            var all = config.volumes ?? [:]
            for volume in volumes { all[volume] = .object([:]) }
            config.volumes = all
        }
        if !labels.isEmpty { config.labels = (config.labels ?? [:]).merging(labels) { $1 } }
        if let stopSignal { config.stopSignal = stopSignal }
    }

    /// Replaces variables by name in place and appends new ones, keeping order.
    static func merge(_ base: [String], _ changes: [EnvironmentVariable]) -> [String] {
        var result = base
        for change in changes {
            let line = "\(change.name)=\(change.value)"
            if let index = result.firstIndex(where: { $0.hasPrefix(change.name + "=") || $0 == change.name }) {
                result[index] = line
            } else {
                result.append(line)
            }
        }
        return result
    }
}
