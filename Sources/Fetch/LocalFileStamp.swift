import Glibc
import Diagnostics

/// A local model file's identity and version as `stat` reports them. Equal stamps
/// mean the file was not written since (ctime catches tools that restore mtime,
/// such as `cp -p` and rsync), so its recorded digest still holds and the file is
/// not read again.
public struct LocalFileStamp: Codable, Sendable, Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: [Int]
    var changed: [Int]

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw Failure(.missingInput, "model source \(path) does not exist; check the path") }
            throw SystemError.failure("read", path: path)
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        changed = [Int(info.st_ctim.tv_sec), Int(info.st_ctim.tv_nsec)]
    }

    /// Written this second or the one before: a write in the same timestamp tick
    /// could follow unseen (git's "racy" case), so such a stamp is not trusted later.
    func isRecent(now: Int) -> Bool { max(modified[0], changed[0]) >= now - 1 }
}
