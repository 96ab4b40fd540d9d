import ByteStreams
import HTTP
import Layering
import CShims

/// What `gantry --version` prints: gantry's version and revision, then the C
/// libraries actually linked (a bug report needs the runtime's, not the headers').
enum VersionText {
    static let version = "0.2.0"

    static var full: String {
        """
        gantry \(version) (revision \(String(cString: gantry_revision())))
        \(ArchiveLibraryVersions.libarchive)
        \(CurlVersion.text)
        \(CryptoVersion.text)
        \(ArchiveLibraryVersions.zlib)
        \(ArchiveLibraryVersions.zstd)
        """
    }
}
