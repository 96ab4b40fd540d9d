import Glibc
import ByteStreams
import Diagnostics
import SystemSupport

/// The user namespace a rootless test container gets: the caller is root in it,
/// and, where the caller has subordinate ids (/etc/subuid, /etc/subgid) and
/// newuidmap/newgidmap are installed (Debian's uidmap), ids 1…65535 map to those,
/// so an image that runs as uid 1000 runs as 1000. Without them only root is
/// mapped (runc needs it), and an image user other than root runs as root instead
/// (`runsAs` says so, and the run warns).
struct RootlessMapping {
    var uids: [IDMapping]
    var gids: [IDMapping]
    /// The user the process runs as: the image's, or root when it cannot be mapped.
    var runsAs: ImageUser
    /// Why the image's user could not be kept, when it could not.
    var warning: String?

    /// Fails with what is missing when this kernel forbids unprivileged user namespaces.
    static func checkUserNamespaces() throws {
        func setting(_ path: String) -> Int? {
            (try? FileReader.readSmallFile(path, limit: 64)).flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingWhitespaceAndNewlines()) }
        }
        let hint = "run gantry test as root, or allow them (sysctl"
        if setting("/proc/sys/user/max_user_namespaces") == 0 {
            throw Failure(.unavailable, "rootless gantry test needs user namespaces, which this kernel forbids (user.max_user_namespaces = 0); \(hint) user.max_user_namespaces=15000)")
        }
        if setting("/proc/sys/kernel/unprivileged_userns_clone") == 0 {
            throw Failure(.unavailable, "rootless gantry test needs unprivileged user namespaces, which this kernel forbids (kernel.unprivileged_userns_clone = 0); \(hint) kernel.unprivileged_userns_clone=1)")
        }
        if setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1 {
            throw Failure(.unavailable, "rootless gantry test needs unprivileged user namespaces, which AppArmor restricts here (kernel.apparmor_restrict_unprivileged_userns = 1); \(hint) kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for runc)")
        }
    }

    static func forCaller(running user: ImageUser) -> RootlessMapping {
        let uid = geteuid(), gid = getegid()
        let name = userName(uid)
        if Subprocess.locate("newuidmap") != nil, Subprocess.locate("newgidmap") != nil,
           let subUIDs = subordinateRange(file: "/etc/subuid", name: name, id: uid),
           let subGIDs = subordinateRange(file: "/etc/subgid", name: name, id: gid) {
            let uids = [IDMapping(containerID: 0, hostID: uid, size: 1),
                        IDMapping(containerID: 1, hostID: subUIDs.start, size: min(subUIDs.count, 65535))]
            let gids = [IDMapping(containerID: 0, hostID: gid, size: 1),
                        IDMapping(containerID: 1, hostID: subGIDs.start, size: min(subGIDs.count, 65535))]
            if user.uid <= 65535 && user.gid <= 65535 {
                return RootlessMapping(uids: uids, gids: gids, runsAs: user)
            }
        }
        var root = user
        root.uid = 0
        root.gid = 0
        let warning = user.uid == 0 && user.gid == 0 ? nil
            : "the image runs as \(user.uid):\(user.gid), which rootless runc can map only with subordinate ids: the app runs as root in its user namespace instead; install uidmap (newuidmap) and give \(name ?? "uid \(uid)") ranges in /etc/subuid and /etc/subgid to test it as its own user"
        return RootlessMapping(uids: [IDMapping(containerID: 0, hostID: uid, size: 1)],
                               gids: [IDMapping(containerID: 0, hostID: gid, size: 1)], runsAs: root, warning: warning)
    }

    private static func userName(_ uid: uid_t) -> String? {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }

    /// The first `name:start:count` (or `uid:start:count`) line of `file` for the caller.
    private static func subordinateRange(file: String, name: String?, id: UInt32) -> (start: UInt32, count: UInt32)? {
        guard let bytes = try? FileReader.readSmallFile(file, limit: 1 << 20) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":").map(String.init)
            guard fields.count == 3, fields[0] == name || fields[0] == String(id),
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0 else { continue }
            return (start, count)
        }
        return nil
    }
}
