/// An image configuration (config.md). Every field the spec and Docker define is
/// modelled; any other top-level field is kept in `extra` and written back, so a
/// base image's config survives decode → edit → encode.
public struct ImageConfig: Hashable, Sendable, Codable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [HistoryEntry]?
    /// Fields not modelled above (Docker's `container_config`, `docker_version`, …).
    public var extra: [String: JSONValue]

    public init(platform: Platform) {
        architecture = platform.architecture
        os = platform.os
        variant = platform.variant
        rootfs = RootFS(diffIDs: [])
        extra = [:]
    }

    public var platform: Platform {
        var platform = Platform(os: os, architecture: architecture, variant: variant)
        platform.osVersion = osVersion
        platform.osFeatures = osFeatures
        return platform
    }

    private static let keys = ["created", "author", "architecture", "os", "os.version", "os.features",
                               "variant", "config", "rootfs", "history"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        created = try c.decodeIfPresent(String.self, forKey: key("created"))
        author = try c.decodeIfPresent(String.self, forKey: key("author"))
        architecture = try c.decode(String.self, forKey: key("architecture"))
        os = try c.decode(String.self, forKey: key("os"))
        osVersion = try c.decodeIfPresent(String.self, forKey: key("os.version"))
        osFeatures = try c.decodeIfPresent([String].self, forKey: key("os.features"))
        variant = try c.decodeIfPresent(String.self, forKey: key("variant"))
        config = try c.decodeIfPresent(ContainerConfig.self, forKey: key("config"))
        rootfs = try c.decode(RootFS.self, forKey: key("rootfs"))
        history = try c.decodeIfPresent([HistoryEntry].self, forKey: key("history"))
        extra = try c.unknownFields(excluding: Set(Self.keys))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        try c.encodeFields(extra)
        try c.encodeIfPresent(created, forKey: key("created"))
        try c.encodeIfPresent(author, forKey: key("author"))
        try c.encode(architecture, forKey: key("architecture"))
        try c.encode(os, forKey: key("os"))
        try c.encodeIfPresent(osVersion, forKey: key("os.version"))
        try c.encodeIfPresent(osFeatures, forKey: key("os.features"))
        try c.encodeIfPresent(variant, forKey: key("variant"))
        try c.encodeIfPresent(config, forKey: key("config"))
        try c.encode(rootfs, forKey: key("rootfs"))
        try c.encodeIfPresent(history, forKey: key("history"))
    }
}

/// The execution parameters (config.md "config"), including Docker's extensions.
public struct ContainerConfig: Hashable, Sendable, Codable {
    public var user: String?
    public var exposedPorts: [String: JSONValue]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: JSONValue]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    /// Docker extensions kept verbatim: Healthcheck, Shell, OnBuild, Hostname, …
    public var extra: [String: JSONValue]

    public init() { extra = [:] }

    private static let keys = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                               "WorkingDir", "Labels", "StopSignal", "ArgsEscaped"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        user = try c.decodeIfPresent(String.self, forKey: key("User"))
        exposedPorts = try c.decodeIfPresent([String: JSONValue].self, forKey: key("ExposedPorts"))
        env = try c.decodeIfPresent([String].self, forKey: key("Env"))
        entrypoint = try c.decodeIfPresent([String].self, forKey: key("Entrypoint"))
        cmd = try c.decodeIfPresent([String].self, forKey: key("Cmd"))
        volumes = try c.decodeIfPresent([String: JSONValue].self, forKey: key("Volumes"))
        workingDir = try c.decodeIfPresent(String.self, forKey: key("WorkingDir"))
        labels = try c.decodeIfPresent([String: String].self, forKey: key("Labels"))
        stopSignal = try c.decodeIfPresent(String.self, forKey: key("StopSignal"))
        argsEscaped = try c.decodeIfPresent(Bool.self, forKey: key("ArgsEscaped"))
        extra = try c.unknownFields(excluding: Set(Self.keys))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        try c.encodeFields(extra)
        try c.encodeIfPresent(user, forKey: key("User"))
        try c.encodeIfPresent(exposedPorts, forKey: key("ExposedPorts"))
        try c.encodeIfPresent(env, forKey: key("Env"))
        try c.encodeIfPresent(entrypoint, forKey: key("Entrypoint"))
        try c.encodeIfPresent(cmd, forKey: key("Cmd"))
        try c.encodeIfPresent(volumes, forKey: key("Volumes"))
        try c.encodeIfPresent(workingDir, forKey: key("WorkingDir"))
        try c.encodeIfPresent(labels, forKey: key("Labels"))
        try c.encodeIfPresent(stopSignal, forKey: key("StopSignal"))
        try c.encodeIfPresent(argsEscaped, forKey: key("ArgsEscaped"))
    }
}

/// The layer DiffIDs (config.md "rootfs").
public struct RootFS: Hashable, Sendable, Codable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(diffIDs: [Digest]) {
        type = "layers"
        self.diffIDs = diffIDs
    }
}

/// One step of the image's history (config.md "history").
public struct HistoryEntry: Hashable, Sendable, Codable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }

    public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.comment = comment
        self.emptyLayer = emptyLayer
    }
}
