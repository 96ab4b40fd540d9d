import FoundationEssentials
import Glibc
import CShims
import Layering
import ByteStreams
import Diagnostics
import SystemSupport

/// What a `gantry test` killed outright (SIGKILL, a lost CI agent) left behind —
/// its container, its overlay mount, its bundle — removed by the next run. Both
/// carry the pid of the gantry that made them (container `gantry-test-PID-X`,
/// bundle `gantry-test.PID.X`); only those whose process is gone and that belong
/// to this user are touched, and never a bundle kept with --keep.
enum StaleRuns {
    static let keptMarker = "kept"

    static func clean(bundles parent: String, runc: Runc, progress: (String) -> Void) {
        var cleaned = Set<String>()
        // Containers first: runc knows their bundles, wherever they were made.
        for (id, bundle) in runc.list() {
            guard let pid = pid(in: id, prefix: "gantry-test-", separator: "-"), isGone(pid) else { continue }
            runc.kill(id: id)
            _ = runc.delete(id: id)
            if removeBundle(bundle) { cleaned.insert(bundle) }
            progress("removed test container \(id), left by gantry process \(pid) which is gone")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
            let bundle = parent + "/" + name
            guard !cleaned.contains(bundle), let pid = pid(in: name, prefix: "gantry-test.", separator: "."), isGone(pid) else { continue }
            if removeBundle(bundle) { progress("removed test bundle \(bundle), left by gantry process \(pid) which is gone") }
        }
    }

    /// Unmounts its rootfs when mounted and removes it; false when it is not a
    /// stale gantry bundle of this user (or was kept).
    private static func removeBundle(_ bundle: String) -> Bool {
        let name = PathName.lastComponent(of: bundle)
        var info = stat()
        guard name.hasPrefix("gantry-test."), lstat(bundle, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
              info.st_uid == geteuid(), access(bundle + "/" + keptMarker, F_OK) != 0 else { return false }
        if isMountPoint(bundle + "/rootfs") && gantry_unmount_detached(bundle + "/rootfs") != 0 { return false }
        return (try? LayerUnpacker(root: bundle).removeAll()) != nil
    }

    /// `gantry-test-123-abc` → 123.
    private static func pid(in name: String, prefix: String, separator: Character) -> pid_t? {
        guard name.hasPrefix(prefix) else { return nil }
        return name.dropFirst(prefix.count).split(separator: separator).first.flatMap { pid_t($0) }
    }

    /// Only a process that certainly does not exist: a reused pid, or another
    /// user's process (EPERM), counts as alive.
    private static func isGone(_ pid: pid_t) -> Bool {
        pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    private static func isMountPoint(_ path: String) -> Bool {
        guard let bytes = try? FileReader.readSmallFile("/proc/self/mountinfo", limit: 16 << 20) else { return false }
        // Field 5 is the mount point, with spaces and the like escaped as octal.
        let escaped = path.replacing("\\", with: "\\134").replacing(" ", with: "\\040")
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == escaped
        }
    }
}
