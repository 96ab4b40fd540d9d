import FoundationEssentials
import Glibc
import ByteStreams
import Synchronization
import OCI
import Registry
import Diagnostics
import SystemSupport

/// Shows transfers on standard error. On a terminal: a live line per active blob
/// (bytes, rate, ETA), redrawn in place. Otherwise (CI logs): a line when a blob
/// starts and ends, and about every 10 s for long ones.
final class ProgressPrinter: TransferObserver, Sendable {
    private let board: Mutex<Board>

    init() { board = Mutex(Board(live: isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb")) }

    func started(_ blob: Descriptor, label: String) { board.withLock { $0.started(blob, label: label) } }
    func advanced(_ blob: Descriptor, bytes: Int64) { board.withLock { $0.advanced(blob, bytes: bytes) } }
    func finished(_ blob: Descriptor, outcome: TransferOutcome) { board.withLock { $0.finished(blob, outcome: outcome) } }

    static func rate(_ bytes: Int64, _ seconds: Double) -> String {
        ByteCount.format(Int64(Double(bytes) / max(seconds, 0.001))) + "/s"
    }
}

/// What the printer shows, changed by one worker thread at a time.
private struct Board {
    struct Active {
        var label: String
        var size: Int64
        var done: Int64 = 0
        let started = Date()
        var lastLogged = Date()
    }

    let live: Bool
    var active: [Digest: Active] = [:]
    var order: [Digest] = []
    var drawnLines = 0
    var lastDraw = Date.distantPast

    init(live: Bool) { self.live = live }

    mutating func started(_ blob: Descriptor, label: String) {
        active[blob.digest] = Active(label: label, size: blob.size)
        order.append(blob.digest)
        if live { redraw(force: true) } else { StandardError.write("\(label) \(blob.digest.short) \(ByteCount.format(blob.size)) started\n") }
    }

    mutating func advanced(_ blob: Descriptor, bytes: Int64) {
        guard var entry = active[blob.digest] else { return }
        entry.done = min(bytes, entry.size)
        if live {
            active[blob.digest] = entry
            redraw(force: false)
        } else if Date().timeIntervalSince(entry.lastLogged) >= 10 {
            entry.lastLogged = Date()
            active[blob.digest] = entry
            StandardError.write(line(blob.digest, entry) + "\n")
        } else {
            active[blob.digest] = entry
        }
    }

    mutating func finished(_ blob: Descriptor, outcome: TransferOutcome) {
        guard let entry = active.removeValue(forKey: blob.digest) else { return }
        order.removeAll { $0 == blob.digest }
        let seconds = Date().timeIntervalSince(entry.started)
        let what: String
        switch outcome {
        case .present: what = "already there"
        case .mounted(let from): what = "mounted from \(from)"
        case .uploaded(let requests): what = "uploaded in \(cFormat("%.1f", seconds))s (\(ProgressPrinter.rate(entry.size, seconds)), \(requests) request\(requests == 1 ? "" : "s"))"
        case .downloaded: what = "downloaded in \(cFormat("%.1f", seconds))s (\(ProgressPrinter.rate(entry.size, seconds)))"
        }
        let text = "\(entry.label) \(blob.digest.short) \(ByteCount.format(entry.size)) \(what)"
        if live {
            clear()
            StandardError.write(text + "\n")
            redraw(force: true)
        } else {
            StandardError.write(text + "\n")
        }
    }

    func line(_ digest: Digest, _ entry: Active) -> String {
        let seconds = max(Date().timeIntervalSince(entry.started), 0.001)
        let rate = Double(entry.done) / seconds
        let eta = rate > 0 ? cFormat("ETA %.0fs", Double(entry.size - entry.done) / rate) : "ETA ?"
        return "\(entry.label) \(digest.short) \(ByteCount.format(entry.done))/\(ByteCount.format(entry.size)) \(ProgressPrinter.rate(entry.done, seconds)) \(eta)"
    }

    mutating func clear() {
        guard drawnLines > 0 else { return }
        StandardError.write("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    mutating func redraw(force: Bool) {
        guard force || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        clear()
        for digest in order { if let entry = active[digest] { StandardError.write(line(digest, entry) + "\n") } }
        drawnLines = order.count
    }
}
