import CArchive
import ByteStreams
import Diagnostics

/// Reads a file that may be xz-, gzip-, bzip2- or zstd-compressed (or plain) as
/// lines, streaming, through libarchive's raw format: a `Packages.xz` of 60,000
/// stanzas is never held whole. `copy` receives the decompressed bytes, in order.
enum CompressedText {
    /// `body` gets each line (without its newline) and the line's length in bytes with it.
    static func forEachLine(of path: String, describedAs what: String, copy: ByteSink? = nil,
                            _ body: (Substring, Int) throws -> Void) throws {
        // archive_read_new only fails when malloc does.
        let archive = archive_read_new()!
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_raw(archive)
        guard archive_read_open_filename(archive, path, 1 << 16) == ARCHIVE_OK else {
            throw Failure(.invalidInput, "cannot read \(what): \(errorText(archive))")
        }
        var entry: OpaquePointer?
        guard archive_read_next_header(archive, &entry) == ARCHIVE_OK else {
            throw Failure(.invalidInput, "cannot read \(what): \(errorText(archive))")
        }
        var pending: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let got = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if got == 0 { break }
            guard got > 0 else { throw Failure(.invalidInput, "\(what) is truncated or corrupt: \(errorText(archive))") }
            try copy?.write(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            var start = 0
            for index in 0..<got where buffer[index] == 0x0A {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<index]))
                try body(Substring(String(decoding: pending, as: UTF8.self)), pending.count + 1)
                pending.removeAll(keepingCapacity: true)
                start = index + 1
            }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<got]))
        }
        if !pending.isEmpty { try body(Substring(String(decoding: pending, as: UTF8.self)), pending.count) }
    }

    private static func errorText(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
