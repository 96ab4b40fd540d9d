import Glibc

// Small text helpers that Foundation's string extensions would otherwise
// provide: gantry links FoundationEssentials only (see Condition.swift).

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (any Unicode space), line breaks kept.
    public func trimmingWhitespace() -> String {
        trimming { $0.isWhitespace && !$0.isNewline }
    }

    /// Without leading and trailing whitespace, line breaks included.
    public func trimmingWhitespaceAndNewlines() -> String {
        trimming { $0.isWhitespace }
    }

    /// Padded with spaces to `width` characters, or cut to it, for columns.
    public func padded(to width: Int) -> String {
        count >= width ? String(prefix(width)) : String(self) + String(repeating: " ", count: width - count)
    }

    /// Without the leading and trailing characters that match `drop`.
    public func trimming(while drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// `printf`-style formatting of numbers ("%.1f", "%02x"), through the C library's
/// vsnprintf. Only for numbers: a `%s` argument would need a C string.
public func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
    // A va_list can be consumed once, so each vsnprintf call gets its own.
    var buffer = [CChar](repeating: 0, count: 64)
    let needed = Int(withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) })
    guard needed >= 0 else { return format }
    if needed >= buffer.count {
        buffer = [CChar](repeating: 0, count: needed + 1)
        _ = withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) }
    }
    return String(decoding: buffer.prefix(needed).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// RFC 3339 time in UTC, to the second ("2024-05-01T12:00:00Z"), of a Unix time:
/// image configs' `created` and `gantry store ls --json`.
public func rfc3339(secondsSince1970 seconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00Z" }
    return cFormat("%04d-%02d-%02dT%02d:%02d:%02dZ", Int32(parts.tm_year) + 1900, parts.tm_mon + 1, parts.tm_mday,
                   parts.tm_hour, parts.tm_min, parts.tm_sec)
}

/// Sizes as people read them: `1.5 GiB`.
public enum ByteCount {
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : cFormat("%.1f", value) + " " + units[unit]
    }
}
