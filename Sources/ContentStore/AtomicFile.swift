import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import SystemSupport

/// Writes a file so that readers see either the old content or the new, never a
/// mix: temp file in the same directory, fsync, rename.
///
/// `durable: false` skips the fsync, for records whose loss after a crash only
/// costs rework (cache records, the upload journal, the last push): an fsync
/// waits for the disk, and on ext4 it can wait for other files' pending data too
/// (a registry's just-written GiB on the same disk), which made small rebuilds
/// swing from 0.1 to 0.8 s. Readers still never see half a file.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        try write(to: path, mode: mode, durable: durable) { try $0.write(bytes) }
    }

    /// Streams `produce` into a temp file next to `path`, then renames it over `path`.
    /// On any error the temp file is removed and `path` is left as it was.
    public static func write(to path: String, mode: mode_t = 0o644, durable: Bool = true,
                             _ produce: (ByteSink) throws -> Void) throws {
        let temp = temporaryPath(for: path)
        do {
            let sink = try FileDescriptorSink(creating: temp, exclusive: true, describedAs: path, mode: mode)
            try produce(sink)
            if durable { try sink.sync() }
            try sink.close()
            guard rename(temp, path) == 0 else { throw SystemError.failure("write", path: path) }
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// A hidden sibling of `path`, unique to this process and call.
    public static func temporaryPath(for path: String) -> String {
        let directory = PathName.parent(of: path)
        let name = PathName.lastComponent(of: path)
        return "\(directory)/.\(name).\(getpid())-\(UUID().uuidString.prefix(8)).tmp"
    }
}
