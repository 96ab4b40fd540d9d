import Glibc

/// A failed system call, described with the path it acted on.
public enum SystemError {
    /// Builds a `Failure` from `errno`, choosing the kind from the error number so
    /// that "no such file" and "disk full" get different exit codes.
    public static func failure(_ action: String, path: String, errno code: Int32 = errno) -> Failure {
        let reason = String(cString: strerror(code))
        let kind: FailureKind
        switch code {
        case ENOENT, ENOTDIR: kind = .missingInput
        case EACCES, EPERM: kind = action.hasPrefix("read") || action.hasPrefix("open") ? .missingInput : .cannotCreateOutput
        case ENOSPC, EDQUOT, EIO, EROFS, EFBIG: kind = .io
        default: kind = .io
        }
        var hint = ""
        if code == ENOSPC || code == EDQUOT { hint = "; free space or point --store/--output elsewhere" }
        if code == EACCES || code == EPERM { hint = "; check the file's permissions" }
        return Failure(kind, "cannot \(action) \(path): \(reason)\(hint)")
    }
}
