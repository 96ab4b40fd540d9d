import Foundation
import Testing
import ByteStreams
@testable import HTTP

/// The libcurl transport against a real loopback HTTP server (Python's http.server
/// with a small echo handler, started and stopped by each test).
final class EchoServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let directory: String

    /// One server for the whole suite (its tests run one at a time).
    static let shared: EchoServer? = try? EchoServer()

    init() throws {
        directory = NSTemporaryDirectory() + "gantry-http-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("echo_server.py").path
        let portFile = directory + ".port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory, portFile]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var port: Int?
        for _ in 0..<200 where port == nil {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { usleep(25_000) }
        }
        guard let port else {
            process.terminate()
            throw CocoaError(.fileReadUnknown)
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

/// Collects a streamed body.
final class Collected: ByteSink {
    var bytes: [UInt8] = []
    func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
}

@Suite(.serialized) struct HTTPTransportTests {
    let server: EchoServer
    let transport: HTTPTransport
    init() throws {
        guard let server = EchoServer.shared else { throw CocoaError(.fileReadUnknown) }
        self.server = server
        transport = try HTTPTransport(options: HTTPOptions())
    }

    @Test func aSuccessfulBodyStreamsToTheSinkAndHeadHasNone() throws {
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(content).write(to: URL(fileURLWithPath: server.directory + "/blob"))
        let sink = Collected()
        var reported: Int64 = 0
        let response = try transport.perform(HTTPRequest(method: "GET", url: server.url("/blob")), destination: .sink(sink)) { reported = $0 }
        #expect(response.status == 200 && response.body.isEmpty)
        #expect(sink.bytes == content && reported == Int64(content.count))
        let head = try transport.perform(HTTPRequest(method: "HEAD", url: server.url("/blob")))
        #expect(head.status == 200 && head.header("content-length") == "300000" && head.body.isEmpty)
    }

    @Test func anErrorBodyGoesToMemoryWithEveryHeaderValue() throws {
        let sink = Collected()
        let response = try transport.perform(HTTPRequest(method: "GET", url: server.url("/status/404")), destination: .sink(sink))
        #expect(response.status == 404 && sink.bytes.isEmpty)
        #expect(response.bodyText.contains("\"TEST\""))
        #expect(response.headers["x-test"] == ["one", "two"] && response.header("X-Test") == "two")
    }

    @Test func aFileRangeIsSentAsTheBody() throws {
        let content = Array("0123456789abcdefghij".utf8)
        let file = server.directory + "/upload"
        try Data(content).write(to: URL(fileURLWithPath: file))
        var request = HTTPRequest(method: "PATCH", url: server.url("/upload"), body: .file(path: file, offset: 5, length: 10))
        request.setHeader("Content-Range", "5-14")
        let response = try transport.perform(request)
        struct Echo: Decodable { var length: Int; var sha256: String; var type: String?; var range: String? }
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(response.status == 201 && response.header("Location") == "/next")
        #expect(echo.length == 10 && echo.sha256 == SHA256Hasher.hash(Array(content[5..<15])).hex)
        #expect(echo.type == "application/octet-stream" && echo.range == "5-14")
    }

    @Test func bytesAndEmptyBodiesAreSent() throws {
        var request = HTTPRequest(method: "PUT", url: server.url("/doc"), body: .bytes(Array(#"{"a":1}"#.utf8)))
        request.setHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        let put = try transport.perform(request)
        #expect(put.bodyText.contains("\"length\": 7") && put.bodyText.contains("manifest.v1+json"))
        let post = try transport.perform(HTTPRequest(method: "POST", url: server.url("/session")))
        #expect(post.bodyText.contains("\"length\": 0"))
    }

    @Test func aSmallDocumentLargerThanItsLimitIsRefused() throws {
        try Data(repeating: 65, count: 10_000).write(to: URL(fileURLWithPath: server.directory + "/big"))
        #expect(throws: (any Error).self) {
            try transport.perform(HTTPRequest(method: "GET", url: server.url("/big")), destination: .memory(limit: 1000))
        }
    }

    @Test func aRefusedConnectionIsARetryableTransportError() throws {
        #expect {
            try transport.perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/v2/"))
        } throws: { error in
            guard let transportError = error as? TransportError else { return false }
            return transportError.curlCode == 7 && transportError.isRetryable && RetryPolicy.isTransient(error)
        }
    }
}
