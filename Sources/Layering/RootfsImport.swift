import CArchive
import ByteStreams
import Diagnostics

/// Turns a root filesystem tarball (from mmdebstrap, debootstrap, `docker export`)
/// into one layer. Entries are copied as they are, in their order; device nodes
/// and sockets are dropped, since images must not carry them (runtimes create /dev).
public enum RootfsImport {
    public static func build(tarball path: String, settings: LayerSettings, into output: ByteSink) throws -> LayerBlob {
        let reader = archive_read_new()!
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_all(reader)
        guard archive_read_open_filename(reader, path, 1 << 20) == ARCHIVE_OK else {
            throw Failure(.missingInput, "cannot open rootfs tarball \(path): \(errorString(reader))")
        }
        var dropped = 0
        let blob = try LayerBuilder.stream(settings: settings, into: output) { tar in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var entry: OpaquePointer?
            while true {
                let status = archive_read_next_header(reader, &entry)
                if status == ARCHIVE_EOF { break }
                guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                    throw Failure(.invalidInput, "rootfs tarball \(path) is not a readable tar: \(errorString(reader))")
                }
                let type = archive_entry_filetype(entry) & UInt32(S_IFMT)
                if type == UInt32(S_IFCHR) || type == UInt32(S_IFBLK) || type == UInt32(S_IFSOCK) {
                    dropped += 1
                    continue
                }
                if archive_entry_hardlink(entry) != nil { archive_entry_set_size(entry, 0) }
                try tar.writeHeader(entry)
                if type == UInt32(S_IFREG) && archive_entry_hardlink(entry) == nil {
                    while true {
                        let got = archive_read_data(reader, buffer.baseAddress, buffer.count)
                        if got == 0 { break }
                        guard got > 0 else {
                            throw Failure(.invalidInput, "rootfs tarball \(path) is truncated or corrupt: \(errorString(reader))")
                        }
                        try tar.writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                    }
                }
            }
        }
        if dropped > 0 { Warnings.emit("dropped \(dropped) device node(s) and socket(s) from \(path)") }
        return blob
    }

    static func errorString(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
