import CArchive
import ByteStreams
import Diagnostics

/// Turns a root filesystem tarball (from mmdebstrap, debootstrap, `docker export`)
/// into one layer. Entries are copied as they are, in their order; device nodes
/// and sockets are dropped, since images must not carry them (runtimes create /dev).
public enum RootfsImport {
    public static func build(tarball path: String, settings: LayerSettings, into output: ByteSink) throws -> LayerBlob {
        let reader = try TarReader(path: path, role: "rootfs tarball")
        var dropped = 0
        let blob = try LayerBuilder.stream(settings: settings, into: output) { tar in
            while let entry = try reader.nextEntry() {
                let type = TarReader.fileType(of: entry)
                if type == UInt32(S_IFCHR) || type == UInt32(S_IFBLK) || type == UInt32(S_IFSOCK) {
                    dropped += 1
                    continue
                }
                let isHardlink = archive_entry_hardlink(entry) != nil
                if isHardlink { archive_entry_set_size(entry, 0) }
                try tar.writeHeader(entry)
                if type == UInt32(S_IFREG) && !isHardlink {
                    try reader.readData { try tar.writeData($0) }
                }
            }
        }
        if dropped > 0 { Warnings.emit("dropped \(dropped) device node(s) and socket(s) from \(path)") }
        return blob
    }
}
