import CArchive
import ByteStreams
import Diagnostics

/// Writes a tar stream with libarchive in PAX format (restricted: plain ustar
/// headers unless a long name, a large size or a large id needs an extension),
/// pushing the bytes into a sink as libarchive produces them.
public final class TarWriter {
    private let archive: OpaquePointer
    private let context: SinkContext
    private var finished = false

    /// Holds the sink and the first error it threw, which libarchive's C callback cannot carry.
    final class SinkContext {
        let sink: ByteSink
        var error: Error?
        init(sink: ByteSink) { self.sink = sink }
    }

    public init(sink: ByteSink) throws {
        // archive_write_new only fails when malloc does.
        archive = archive_write_new()!
        context = SinkContext(sink: sink)
        archive_write_set_format_pax_restricted(archive)
        archive_write_add_filter_none(archive)
        // No 10 KiB record blocking: each write reaches the sink whole instead of as
        // ~100,000 small callbacks per GiB. The stream still ends with the two zero
        // blocks tar requires, as Go's archive/tar (Docker, containerd) writes it.
        archive_write_set_bytes_per_block(archive, 0)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        let status = archive_write_open(archive, opaque, nil, { _, client, buffer, length in
            guard let client, let buffer else { return -1 }
            let context = Unmanaged<SinkContext>.fromOpaque(client).takeUnretainedValue()
            do {
                try context.sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
                return la_ssize_t(length)
            } catch {
                context.error = error
                return -1
            }
        }, nil)
        guard status == ARCHIVE_OK else { throw failure("start a tar stream") }
    }

    deinit {
        archive_write_free(archive)
    }

    public enum EntryType {
        case directory, regular, symlink(String), hardlink(String)
    }

    /// Writes one header. For a regular file, follow with `writeData` for exactly `size` bytes.
    public func writeHeader(path: String, type: EntryType, size: Int64, mode: UInt32,
                            uid: UInt32, gid: UInt32, mtime: Int64) throws {
        // The last line of defence: whatever built `path`, no entry leaves the layer.
        try ImagePath.checkEntryName(path, role: "layer")
        if case .hardlink(let target) = type { try ImagePath.checkEntryName(target, role: "layer hard link \(path)") }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_perm(entry, mode_t(mode & 0o7777))
        archive_entry_set_uid(entry, la_int64_t(uid))
        archive_entry_set_gid(entry, la_int64_t(gid))
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        switch type {
        case .directory:
            archive_entry_set_filetype(entry, UInt32(S_IFDIR))
            archive_entry_set_size(entry, 0)
        case .regular:
            archive_entry_set_filetype(entry, UInt32(S_IFREG))
            archive_entry_set_size(entry, la_int64_t(size))
        case .symlink(let target):
            archive_entry_set_filetype(entry, UInt32(S_IFLNK))
            archive_entry_set_symlink(entry, target)
            archive_entry_set_size(entry, 0)
        case .hardlink(let target):
            archive_entry_set_filetype(entry, UInt32(S_IFREG))
            archive_entry_set_hardlink(entry, target)
            archive_entry_set_size(entry, 0)
        }
        try writeHeader(entry)
    }

    /// Writes a header libarchive already filled in (used to copy a rootfs tarball).
    public func writeHeader(_ entry: OpaquePointer?) throws {
        guard let entry else { throw Failure(.internalFailure, "tar header without an entry") }
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        try ImagePath.checkEntryName(name, role: "layer")
        if let target = archive_entry_hardlink(entry) {
            try ImagePath.checkEntryName(String(cString: target), role: "layer hard link \(name)")
        }
        let status = archive_write_header(archive, entry)
        if status == ARCHIVE_WARN { return }
        guard status == ARCHIVE_OK else { throw failure("write a tar header") }
    }

    public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let written = archive_write_data(archive, base, bytes.count)
        guard written == bytes.count else { throw failure("write tar data") }
    }

    /// Writes the end-of-archive blocks and flushes everything to the sink.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("finish the tar stream") }
    }

    private func failure(_ action: String) -> Error {
        if let error = context.error { return error }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        return Failure(.io, "cannot \(action): \(message)")
    }
}
