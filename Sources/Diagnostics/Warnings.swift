import Glibc

/// Warnings go to standard error as they happen; they never stop a build.
public enum Warnings {
    public static func emit(_ message: String) {
        StandardError.write("warning: \(message)\n")
    }
}

/// Unbuffered writes to file descriptor 2 (the C `stderr` global is not
/// concurrency-safe in Swift 6, and unbuffered writes keep lines whole).
public enum StandardError {
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
