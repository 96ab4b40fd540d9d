/// Which of a failed container's output lines a report shows.
public enum ContainerOutput {
    /// The last `tail` lines, unless a Python traceback begins before them: then
    /// from the first traceback on, because that one is the cause. A server such
    /// as gunicorn reports a worker's import error and then fails itself with a
    /// second, chained traceback whose length varies with timing; showing only
    /// the last one (or only the last lines) hid the app's own error. At most
    /// `limit` lines: the start of the first traceback and the end of the output.
    public static func excerpt(_ lines: [String], tail: Int, limit: Int = 120) -> [String] {
        guard let first = lines.firstIndex(where: { $0.contains("Traceback (most recent call last)") }),
              lines.count - first > tail else {
            return Array(lines.suffix(tail))
        }
        let fromCause = lines[first...]
        guard fromCause.count > limit else { return Array(fromCause) }
        let head = limit / 2
        let omitted = fromCause.count - head - (limit - head - 1)
        return Array(fromCause.prefix(head)) + ["[… \(omitted) lines left out …]"] + Array(fromCause.suffix(limit - head - 1))
    }
}
