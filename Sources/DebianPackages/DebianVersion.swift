/// A Debian package version, `[epoch:]upstream[-revision]`, ordered as Debian
/// Policy §5.6.12 says: epochs as numbers, then upstream and revision compared in
/// alternating runs of non-digits (letters before non-letters, `~` before
/// everything, even the end) and digits (as numbers).
public struct DebianVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let epoch: Int
    public let upstream: String
    public let revision: String
    /// The text as written, for messages and records.
    public let description: String

    public init?(_ text: String) {
        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            guard let value = Int(rest[..<colon]), value >= 0 else { return nil }
            epoch = value
            rest = rest[rest.index(after: colon)...]
        }
        var revision = ""
        if let dash = rest.lastIndex(of: "-") {
            revision = String(rest[rest.index(after: dash)...])
            rest = rest[..<dash]
        }
        guard let first = rest.first, first.isASCII, first.isNumber else { return nil }
        self.epoch = epoch
        self.upstream = String(rest)
        self.revision = revision
        self.description = text
    }

    public static func < (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) < 0 }

    public static func == (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) == 0 }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(epoch)
        hasher.combine(upstream)
        hasher.combine(revision.isEmpty ? "0" : revision)
    }

    /// -1, 0 or 1, as dpkg's `verrevcmp` orders versions.
    public static func compare(_ a: DebianVersion, _ b: DebianVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let upstream = compareParts(Array(a.upstream.utf8), Array(b.upstream.utf8))
        if upstream != 0 { return upstream }
        return compareParts(Array(a.revision.utf8), Array(b.revision.utf8))
    }

    /// The weight of one non-digit character: `~` lowest, then the end, letters, others.
    private static func order(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        if byte == UInt8(ascii: "~") { return -1 }
        if (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) { return Int(byte) }
        if byte >= 0x30 && byte <= 0x39 { return 0 }
        return Int(byte) + 256
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func compareParts(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        while i < a.count || j < b.count {
            var difference = 0
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let left = order(i < a.count ? a[i] : nil), right = order(j < b.count ? b[j] : nil)
                if left != right { return left < right ? -1 : 1 }
                i += 1
                j += 1
            }
            while i < a.count && a[i] == UInt8(ascii: "0") { i += 1 }
            while j < b.count && b[j] == UInt8(ascii: "0") { j += 1 }
            while i < a.count && isDigit(a[i]) && j < b.count && isDigit(b[j]) {
                if difference == 0 { difference = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if i < a.count && isDigit(a[i]) { return 1 }
            if j < b.count && isDigit(b[j]) { return -1 }
            if difference != 0 { return difference < 0 ? -1 : 1 }
        }
        return 0
    }
}
