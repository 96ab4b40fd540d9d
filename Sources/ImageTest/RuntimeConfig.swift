import OCI

/// The process a test container runs, resolved from the image config.
struct RuntimeProcess {
    var args: [String]
    var env: [String]
    var cwd: String
    var user: ImageUser
}

/// One line of a user namespace's uid or gid map.
struct IDMapping: Equatable {
    var containerID: UInt32
    var hostID: UInt32
    var size: UInt32

    var json: JSONValue {
        .object(["containerID": .integer(Int64(containerID)), "hostID": .integer(Int64(hostID)), "size": .integer(Int64(size))])
    }
}

/// The OCI runtime spec (config.json) runc runs a test container from: the
/// image's process, fresh namespaces (network included: each run has its own
/// loopback, so two runs never collide on a port), the mounts and masked paths
/// `runc spec` uses, and Docker's default capabilities. Rootless, a user
/// namespace maps the caller to root (and subordinate ids, where there are any,
/// to the rest) and /sys is bound read-only instead of mounted.
enum RuntimeConfig {
    static let defaultCapabilities = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                                      "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                                      "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]

    /// The test container's host name (its /etc/hostname, and an /etc/hosts name for 127.0.0.1).
    static let hostname = "gantry-test"

    static func document(process: RuntimeProcess, uidMappings: [IDMapping]?, gidMappings: [IDMapping]?,
                         hostname: String = RuntimeConfig.hostname, readOnlyBinds: [(source: String, destination: String)] = []) -> JSONValue {
        let rootless = uidMappings != nil
        let capabilities = JSONValue.array(defaultCapabilities.map(JSONValue.string))
        // No rlimits: the container keeps gantry's own (raising them needs CAP_SYS_RESOURCE).
        let processObject: [String: JSONValue] = [
            "terminal": .bool(false),
            "user": .object(["uid": .integer(Int64(process.user.uid)), "gid": .integer(Int64(process.user.gid))]),
            "args": .array(process.args.map(JSONValue.string)),
            "env": .array(process.env.map(JSONValue.string)),
            "cwd": .string(process.cwd),
            "capabilities": .object(["bounding": capabilities, "effective": capabilities, "permitted": capabilities]),
            "noNewPrivileges": .bool(true),
        ]
        var namespaces: [JSONValue] = ["pid", "network", "ipc", "uts", "mount"].map { .object(["type": .string($0)]) }
        var linux: [String: JSONValue] = [
            "maskedPaths": .array(["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                   "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"].map(JSONValue.string)),
            "readonlyPaths": .array(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].map(JSONValue.string)),
        ]
        if let uidMappings, let gidMappings {
            namespaces.append(.object(["type": .string("user")]))
            linux["uidMappings"] = .array(uidMappings.map(\.json))
            linux["gidMappings"] = .array(gidMappings.map(\.json))
        }
        linux["namespaces"] = .array(namespaces)
        return .object([
            "ociVersion": .string("1.0.2"),
            "process": .object(processObject),
            "root": .object(["path": .string("rootfs"), "readonly": .bool(false)]),
            "hostname": .string(hostname),
            "mounts": .array(mounts(rootless: rootless) + readOnlyBinds.map { bind in
                .object(["destination": .string(bind.destination), "type": .string("bind"), "source": .string(bind.source),
                         "options": .array(["rbind", "ro", "nosuid", "nodev"].map(JSONValue.string))])
            }),
            "linux": .object(linux),
        ])
    }

    private static func mounts(rootless: Bool) -> [JSONValue] {
        func mount(_ destination: String, _ type: String, _ source: String, _ options: [String]) -> JSONValue {
            .object(["destination": .string(destination), "type": .string(type), "source": .string(source),
                     "options": .array(options.map(JSONValue.string))])
        }
        return [
            mount("/proc", "proc", "proc", []),
            mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            // gid 5 (tty) is not mapped in a rootless user namespace.
            mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] + (rootless ? [] : ["gid=5"])),
            mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
            rootless ? mount("/sys", "none", "/sys", ["rbind", "nosuid", "noexec", "nodev", "ro"])
                : mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        ]
    }
}
