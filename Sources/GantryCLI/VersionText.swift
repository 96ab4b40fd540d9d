import ByteStreams
import HTTP
import Layering
import CShims
import SystemSupport

/// What `gantry --version` prints: gantry's version and revision, then the C
/// libraries actually linked (a bug report needs the runtime's, not the headers').
enum VersionText {
    static let version = GantryVersion.number

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
