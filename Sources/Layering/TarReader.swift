import CArchive
import Diagnostics

/// Reads a tar (any compression libarchive knows) entry by entry, streaming each
/// entry's data in 1 MiB pieces. Owns the libarchive handle; freed in deinit.
public final class TarReader {
    private let archive: OpaquePointer
    private let path: String
    /// How errors name the file, e.g. "rootfs tarball base.tar".
    private let role: String
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

    public init(path: String, role: String) throws {
        // archive_read_new only fails when malloc does.
        archive = archive_read_new()!
        self.path = path
        self.role = role
        archive_read_support_filter_all(archive)
        archive_read_support_format_all(archive)
        guard archive_read_open_filename(archive, path, 1 << 20) == ARCHIVE_OK else {
            throw Failure(.invalidInput, "cannot open \(role) \(path): \(errorText)")
        }
    }

    deinit {
        archive_read_free(archive)
        buffer.deallocate()
    }

    /// The next entry's header (valid until the next call), or nil at the end.
    public func nextEntry() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw Failure(.invalidInput, "\(role) \(path) is not a readable tar: \(errorText)")
        }
        // Names from someone else's tar are checked before anything is done with them.
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        try ImagePath.checkEntryName(name, role: "\(role) \(path)")
        if let target = archive_entry_hardlink(entry) {
            try ImagePath.checkEntryName(String(cString: target), role: "\(role) \(path), hard link \(name)")
        }
        return entry
    }

    /// Passes the current entry's data to `body`, in order.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let got = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if got == 0 { return }
            guard got > 0 else { throw Failure(.invalidInput, "\(role) \(path) is truncated or corrupt: \(errorText)") }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
        }
    }

    /// The current entry's path without a leading `./`.
    public static func path(of entry: OpaquePointer) -> String? {
        guard let name = archive_entry_pathname(entry) else { return nil }
        let text = String(cString: name)
        return text.hasPrefix("./") ? String(text.dropFirst(2)) : text
    }

    public static func fileType(of entry: OpaquePointer) -> UInt32 {
        archive_entry_filetype(entry) & 0o170000
    }

    private var errorText: String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
