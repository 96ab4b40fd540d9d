/// Which of a failed container's output lines a report shows.
///
/// A Python server that dies at start prints several tracebacks: gunicorn logs
/// each worker's import error (the app's own `RuntimeError: …`) and then fails
/// itself with `HaltServer: Worker failed to boot`, uvicorn and plain python print
/// one. The cause is the first; the last lines alone hid it. So the excerpt is:
/// a few lines before the first traceback, that traceback in full (with the
/// exceptions chained to it), every distinct exception line of the later ones
/// once, and the last lines of the output — at most `limit` lines in all.
public enum ContainerOutput {
    /// One traceback and the ones chained to it ("During handling of the above
    /// exception…"): its first line, the index of its last exception line, and the
    /// exception lines (`RuntimeError: model file missing`).
    struct Traceback: Equatable {
        var start: Int
        var end: Int
        var exceptions: [String]
    }

    static let header = "Traceback (most recent call last)"
    static let chainMarkers = ["During handling of the above exception", "The above exception was the direct cause"]

    public static func excerpt(_ lines: [String], tail: Int, limit: Int = 120) -> [String] {
        let found = tracebacks(in: lines)
        guard let first = found.first, lines.count > tail else { return Array(lines.suffix(tail)) }
        var shown: [String] = []
        let before = max(0, first.start - 5)
        if before > 0 { shown.append("[… \(before) lines before …]") }
        shown += lines[before..<first.start]
        // The first traceback in full, unless it alone is longer than most of the budget.
        let cause = Array(lines[first.start...first.end])
        let causeBudget = limit * 2 / 3
        if cause.count > causeBudget {
            let head = causeBudget / 2
            shown += cause.prefix(head) + ["[… \(cause.count - causeBudget + 1) traceback lines left out …]"] + cause.suffix(causeBudget - head - 1)
        } else {
            shown += cause
        }
        // After it: each later traceback folded into one line naming its exceptions
        // (a second gunicorn worker repeats the first word for word), the rest as printed.
        var rest: [String] = []
        var index = first.end + 1
        for traceback in found.dropFirst() {
            rest += lines[index..<traceback.start]
            let same = traceback.exceptions == first.exceptions
            rest.append("[… a traceback of \(traceback.end - traceback.start + 1) lines\(same ? ", the same as above" : ""): \(traceback.exceptions.joined(separator: " → "))]")
            index = traceback.end + 1
        }
        rest += lines[index...]
        let room = max(5, min(tail, limit - shown.count - 1))
        if rest.count > room {
            // Every distinct exception once, even when its traceback falls outside the end shown.
            let visible = rest.suffix(room).joined(separator: "\n")
            var listed = Set(first.exceptions)
            var missing: [String] = []
            for traceback in found.dropFirst() {
                for exception in traceback.exceptions where !listed.contains(exception) && !visible.contains(exception) {
                    listed.insert(exception)
                    missing.append(exception)
                }
            }
            if !missing.isEmpty {
                shown.append("[later exceptions, each once:]")
                shown += missing.prefix(10).map { "  " + $0 }
            }
            let fits = max(5, min(room, limit - shown.count - 1))
            shown.append("[… \(rest.count - fits) lines …; the output ends:]")
            shown += rest.suffix(fits)
        } else {
            shown += rest
        }
        return shown
    }

    /// The tracebacks in the output, chained ones folded into the traceback they follow.
    static func tracebacks(in lines: [String]) -> [Traceback] {
        var found: [Traceback] = []
        var index = 0
        while index < lines.count {
            guard lines[index].contains(header) else { index += 1; continue }
            var traceback = Traceback(start: index, end: index, exceptions: [])
            var cursor = index
            while true {
                // The body is indented; the exception line is the first line that is not.
                var line = cursor + 1
                while line < lines.count, lines[line].isEmpty || lines[line].first == " " || lines[line].first == "\t" { line += 1 }
                guard line < lines.count, !lines[line].contains(header) else { traceback.end = max(cursor, line - 1); break }
                traceback.end = line
                traceback.exceptions.append(lines[line])
                // A chained traceback: a blank line, the marker, a blank line, the next header.
                let next = lines[(line + 1)...].prefix(4)
                guard next.contains(where: { text in chainMarkers.contains { text.hasPrefix($0) } }),
                      let chained = next.firstIndex(where: { $0.contains(header) }) else { break }
                cursor = chained
            }
            found.append(traceback)
            index = traceback.end + 1
        }
        return found
    }
}
