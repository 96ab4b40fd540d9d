import FoundationEssentials
import Glibc
import HTTP
import ByteStreams
import Diagnostics

/// Adds authentication to a request for one source; called for every request
/// (each ranged GET is signed anew, with its own date and Range).
protocol RequestSigner: Sendable {
    func sign(_ request: inout HTTPRequest) throws
}

/// No authentication (public objects, SAS and presigned URLs carry theirs in the query).
struct NoSigner: RequestSigner {
    func sign(_ request: inout HTTPRequest) throws {}
}

/// HTTP dates (RFC 7231 IMF-fixdate) and the compact ISO 8601 form SigV4 uses.
enum RequestDate {
    static func format(_ date: Date, _ pattern: String) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func http(_ date: Date) -> String { format(date, "%a, %d %b %Y %H:%M:%S GMT") }
}
