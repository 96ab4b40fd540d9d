import Foundation
import Synchronization
import HTTP

/// An `HTTPClient` that answers from a script instead of the network, for unit
/// tests of the registry client's and the downloads' state machines. Each rule
/// matches a method and a URL fragment and answers a number of times; requests
/// are logged with the bytes they carried. A request no rule matches fails with a
/// non-retryable error naming it, so a test cannot pass by accident.
public final class ScriptedTransport: HTTPClient, Sendable {
    /// What a rule answers.
    public enum Reply: Sendable {
        /// A status with headers and a body (to the caller's sink for 2xx).
        case answer(Int, headers: [String: String] = [:], body: [UInt8] = [])
        /// The connection drops before any answer (curl code, e.g. 56 "receive error").
        case drop(curlCode: Int = 56)
        /// A 2xx whose body stops after `body` (the server closed early), then the connection drops.
        case cut(Int, headers: [String: String] = [:], body: [UInt8], curlCode: Int = 18)
    }

    /// A request as the transport saw it.
    public struct Received: Sendable {
        public var method: String
        public var url: String
        public var headers: [String: String]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers[name.lowercased()] }
        /// The URL without scheme and host.
        public var path: String {
            guard let scheme = url.range(of: "://"), let slash = url[scheme.upperBound...].firstIndex(of: "/") else { return url }
            return String(url[slash...])
        }
    }

    private struct Rule {
        var method: String
        var fragment: String
        var remaining: Int
        var reply: @Sendable (Received) -> Reply
    }

    private let state = Mutex<(rules: [Rule], log: [Received])>(([], []))

    public init() {}

    /// Answers `method` requests whose URL contains `fragment`, `times` times (rules are tried in order).
    public func on(_ method: String, _ fragment: String, times: Int = 1, _ reply: @escaping @Sendable (Received) -> Reply) {
        state.withLock { $0.rules.append(Rule(method: method, fragment: fragment, remaining: times, reply: reply)) }
    }

    public func on(_ method: String, _ fragment: String, times: Int = 1, reply: Reply) {
        on(method, fragment, times: times) { _ in reply }
    }

    /// Every request so far, in order.
    public var log: [Received] { state.withLock { $0.log } }

    /// The requests so far as "METHOD /path", for compact assertions.
    public var trace: [String] { log.map { "\($0.method) \($0.path)" } }

    public func perform(_ request: HTTPRequest, destination: ResponseDestination, progress: ((Int64) -> Void)?) throws -> HTTPResponse {
        var headers: [String: String] = [:]
        for (name, value) in request.headers { headers[name.lowercased()] = value }
        let received = Received(method: request.method, url: request.url, headers: headers, body: try Self.bytes(of: request.body))
        let rule: Rule? = state.withLock { state in
            state.log.append(received)
            guard let index = state.rules.firstIndex(where: {
                $0.remaining > 0 && $0.method == request.method && request.url.contains($0.fragment)
            }) else { return nil }
            state.rules[index].remaining -= 1
            return state.rules[index]
        }
        guard let rule else {
            throw TransportError(curlCode: 3, message: "no scripted answer for \(request.method) \(request.url)", url: request.url)
        }
        progress?(Int64(received.body.count))
        switch rule.reply(received) {
        case .drop(let code):
            throw TransportError(curlCode: code, message: "connection dropped (scripted)", url: request.url)
        case .answer(let status, let replyHeaders, let body):
            return try Self.deliver(status, replyHeaders, body, to: destination, url: request.url)
        case .cut(let status, let replyHeaders, let body, let code):
            _ = try Self.deliver(status, replyHeaders, body, to: destination, url: request.url)
            throw TransportError(curlCode: code, message: "body cut short (scripted)", url: request.url)
        }
    }

    private static func deliver(_ status: Int, _ headers: [String: String], _ body: [UInt8], to destination: ResponseDestination,
                                url: String) throws -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: [:], body: [], url: url)
        for (name, value) in headers { response.headers[name.lowercased()] = [value] }
        if case .sink(let sink) = destination, (200..<300).contains(status) {
            try body.withUnsafeBytes { try sink.write($0) }
        } else {
            response.body = body
        }
        return response
    }

    private static func bytes(of body: HTTPBody) throws -> [UInt8] {
        switch body {
        case .empty: return []
        case .bytes(let bytes): return bytes
        case .file(let path, let offset, let length):
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            return Array(try handle.read(upToCount: Int(length)) ?? Data())
        }
    }
}

/// A fresh directory under /tmp for one test, removed when dropped.
public final class ScratchDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "gantry-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` inside and returns its path.
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// Deterministic pseudo-random bytes (a blob's content in a test).
public func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E3779B97F4A7C15 | 1
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}
