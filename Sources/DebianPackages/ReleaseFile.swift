import FoundationEssentials
import Diagnostics

/// A suite's `Release` (the verified text of `InRelease`): when it was made, until
/// when it is valid, and the SHA-256 and size of each index file it lists.
public struct ReleaseFile: Sendable {
    public var fields: ControlStanza
    public var date: String?
    public var validUntil: Date?
    public var acquireByHash: Bool
    public var files: [String: (sha256: String, size: Int64)]

    public init(text: String, describedAs what: String) throws {
        guard let stanza = ControlStanza.parse(text).first else {
            throw Failure(.invalidInput, "\(what) is empty; check the repository URL and suite")
        }
        fields = stanza
        date = stanza["Date"]
        validUntil = stanza["Valid-Until"].flatMap(Self.parseDate)
        acquireByHash = stanza["Acquire-By-Hash"]?.lowercased() == "yes"
        files = [:]
        for line in (stanza["SHA256"] ?? "").split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count == 3, words[0].count == 64, let size = Int64(words[1]) else { continue }
            files[String(words[2])] = (String(words[0]).lowercased(), size)
        }
        guard !files.isEmpty else {
            throw Failure(.invalidInput, "\(what) lists no SHA256 sums; gantry, like apt, uses no index it cannot check")
        }
    }

    /// RFC 2822 dates as Release files write them: `Sat, 07 Oct 2023 09:48:58 UTC`.
    static func parseDate(_ text: String) -> Date? {
        let words = text.split(separator: " ")
        guard words.count >= 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let day = Int(words[1]), let month = months.firstIndex(of: String(words[2])), let year = Int(words[3]) else { return nil }
        let time = words[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), all in UTC.
        let y = month < 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = month + 1
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Date(timeIntervalSince1970: TimeInterval(days * 86400 + time[0] * 3600 + time[1] * 60 + time[2]))
    }
}
