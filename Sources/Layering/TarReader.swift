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
    /// With `inflateAside`, a gzip file's inflating thread.
    private let inflater: BackgroundInflater?

    /// `inflateAside`: a gzip file is inflated on a thread of its own while the
    /// caller works through its entries (unpacking: see `BackgroundInflater`).
    public init(path: String, role: String, inflateAside: Bool = false) throws {
        // archive_read_new only fails when malloc does.
        archive = archive_read_new()!
        self.path = path
        self.role = role
        archive_read_support_filter_all(archive)
        archive_read_support_format_all(archive)
        inflater = inflateAside && BackgroundInflater.isGzip(path) ? try BackgroundInflater(path: path) : nil
        let status = if let inflater {
            archive_read_open(archive, Unmanaged.passUnretained(inflater).toOpaque(), nil, { _, client, buffer in
                guard let client, let buffer else { return -1 }
                let inflater = Unmanaged<BackgroundInflater>.fromOpaque(client).takeUnretainedValue()
                // Its failure is kept by the inflater, and told in `errorText`.
                guard let piece = try? inflater.next() else { return -1 }
                buffer.pointee = piece.baseAddress
                return la_ssize_t(piece.count)
            }, nil)
        } else {
            archive_read_open_filename(archive, path, 1 << 20)
        }
        guard status == ARCHIVE_OK else {
            throw Failure(.invalidInput, "cannot open \(role) \(path): \(errorText)")
        }
    }

    deinit {
        archive_read_free(archive)
        inflater?.abandon()
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
        inflater?.failureMessage ?? archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
