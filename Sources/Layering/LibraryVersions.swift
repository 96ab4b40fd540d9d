import CArchive
import CZlib
import CZstd

/// Versions of the C libraries this module links, for `gantry --version`.
public enum ArchiveLibraryVersions {
    /// e.g. "libarchive 3.6.2 zlib/1.2.13 liblzma/5.4.1 bz2lib/1.0.8 libzstd/1.5.4".
    public static var libarchive: String {
        archive_version_details().map { String(cString: $0) } ?? "libarchive (unknown)"
    }

    public static var zlib: String {
        zlibVersion().map { "zlib " + String(cString: $0) } ?? "zlib (unknown)"
    }

    public static var zstd: String {
        ZSTD_versionString().map { "libzstd " + String(cString: $0) } ?? "libzstd (unknown)"
    }
}
