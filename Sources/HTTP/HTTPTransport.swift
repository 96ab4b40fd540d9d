import FoundationEssentials
import Glibc
import CCurl
import CCurlShims
import ByteStreams
import Diagnostics
import SystemSupport

/// Settings shared by every connection.
public struct HTTPOptions: Sendable {
    /// Seconds to connect (`NetworkLimits`: 10 unless set).
    public var connectTimeout: Int = NetworkLimits.values.connectTimeout
    /// A transfer slower than 1 byte/s for this long is abandoned (a stalled
    /// connection, or a peer that accepted and never answers; `NetworkLimits`: 30).
    public var stallTimeout: Int = NetworkLimits.values.stallTimeout
    /// Extra CA bundle (PEM) trusted besides the system store.
    public var caFile: String?
    /// Print each request's method, redacted URL, status and time to standard error.
    public var verbose = false
    public var userAgent = "gantry/" + GantryVersion.number
    /// Limits a whole request (connect, send, answer), in seconds; nil: no limit but the stall timeout.
    public var requestTimeout: Int?
    /// Makes the socket each new connection uses (libcurl still connects it to the
    /// URL's address): `gantry test` connects inside a container's network
    /// namespace with sockets made there.
    public var makeSocket: (@Sendable () throws -> Int32)?

    public init() {}
}

/// Where a response body goes when the status is 2xx; other bodies (errors)
/// always go to memory, up to 64 KiB, so they can be reported.
public enum ResponseDestination {
    case memory(limit: Int)
    case sink(ByteSink)
}

/// One libcurl easy handle: blocking requests, connections kept alive between
/// them. Not thread-safe: each worker thread owns its own transport. Proxies come
/// from HTTPS_PROXY / NO_PROXY as libcurl reads them; TLS verification is always on.
public final class HTTPTransport: HTTPClient {
    private let handle: UnsafeMutableRawPointer
    public let options: HTTPOptions

    public init(options: HTTPOptions) throws {
        HTTPTransport.initializeOnce
        guard let handle = curl_easy_init() else { throw Failure(.internalFailure, "cannot create a libcurl handle") }
        self.handle = handle
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    private static let initializeOnce: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Per-request state the C callbacks reach through their context pointer.
    final class Exchange {
        var headers: [String: [String]] = [:]
        var memory: [UInt8] = []
        var memoryLimit: Int
        var sink: ByteSink?
        var sinkError: Error?
        var status = 0
        var bodyFile: Int32 = -1
        /// Where the body starts in `bodyFile`, and its length: to rewind to.
        var bodyFileStart: Int64 = 0
        var bodyLength: Int64 = 0
        var bodyBytes: [UInt8] = []
        var bodyOffset = 0
        var bodyRemaining: Int64 = 0
        var handle: UnsafeMutableRawPointer?
        var progress: ((Int64) -> Void)?
        var makeSocket: (@Sendable () throws -> Int32)?
        var connectError: Error?

        init(memoryLimit: Int) { self.memoryLimit = memoryLimit }
    }

    /// Sends one request and waits for the whole answer. Throws `TransportError`
    /// when no HTTP answer came; any HTTP status is returned, not thrown.
    public func perform(_ request: HTTPRequest, destination: ResponseDestination,
                        progress: ((Int64) -> Void)?) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let exchange = Exchange(memoryLimit: 64 << 10)
        exchange.handle = handle
        exchange.progress = progress
        switch destination {
        case .memory(let limit): exchange.memoryLimit = limit
        case .sink(let sink): exchange.sink = sink
        }
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        set(CURLOPT_URL, request.url)
        set(CURLOPT_USERAGENT, options.userAgent)
        setLong(CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        setLong(CURLOPT_LOW_SPEED_LIMIT, 1)
        setLong(CURLOPT_LOW_SPEED_TIME, options.stallTimeout)
        setLong(CURLOPT_NOSIGNAL, 1)
        // Redirects are followed by the caller, which drops credentials on a host change.
        setLong(CURLOPT_FOLLOWLOCATION, 0)
        setLong(CURLOPT_SSL_VERIFYPEER, 1)
        setLong(CURLOPT_SSL_VERIFYHOST, 2)
        setLong(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        setLong(CURLOPT_TCP_KEEPALIVE, 1)
        if let caFile = options.caFile { set(CURLOPT_CAINFO, caFile) }
        if let requestTimeout = options.requestTimeout { setLong(CURLOPT_TIMEOUT, requestTimeout) }
        if let makeSocket = options.makeSocket {
            exchange.makeSocket = makeSocket
            set(CURLOPT_PROXY, "")  // the address is in the socket's namespace; no proxy from the environment
            _ = gantry_curl_set_open_socket_callback(handle, HTTPTransport.openSocket, context)
        }
        if case .sink = destination {
            // A body streamed to a file (a model, a layer) arrives in pieces of up to this
            // many bytes: libcurl's 16 KiB default meant a poll, a recv and a write per
            // 16 KiB, 65,000 of each per GiB.
            setLong(CURLOPT_BUFFERSIZE, 256 << 10)
        }

        switch request.method {
        case "GET": setLong(CURLOPT_HTTPGET, 1)
        case "HEAD": setLong(CURLOPT_NOBODY, 1)
        default: set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        var fileToClose: Int32 = -1
        defer { if fileToClose >= 0 { close(fileToClose) } }
        if request.method != "GET" && request.method != "HEAD" {
            switch request.body {
            case .empty:
                setLong(CURLOPT_UPLOAD, 1)
                _ = gantry_curl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, 0)
            case .bytes(let bytes):
                exchange.bodyBytes = bytes
                exchange.bodyRemaining = Int64(bytes.count)
                setLong(CURLOPT_UPLOAD, 1)
                _ = gantry_curl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(bytes.count))
            case .file(let path, let offset, let length):
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError.failure("open", path: path) }
                fileToClose = fd
                guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { throw SystemError.failure("read", path: path) }
                exchange.bodyFile = fd
                exchange.bodyFileStart = offset
                exchange.bodyLength = length
                exchange.bodyRemaining = length
                setLong(CURLOPT_UPLOAD, 1)
                _ = gantry_curl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(length))
            }
            _ = gantry_curl_set_read_callback(handle, HTTPTransport.readBody, context)
            // curl rewinds the body when it must resend it (a kept-alive connection found dead).
            _ = gantry_curl_set_seek_callback(handle, HTTPTransport.seekBody, context)
        }

        var list: UnsafeMutablePointer<curl_slist>?
        var headers = request.headers
        // curl adds "Expect: 100-continue" to uploads; registries answer fine without the extra round trip.
        if request.method != "GET" && request.method != "HEAD" { headers.append(("Expect", "")) }
        if request.method == "PUT" || request.method == "PATCH" || request.method == "POST",
           request.header("Content-Type") == nil {
            headers.append(("Content-Type", "application/octet-stream"))
        }
        for (name, value) in headers {
            list = curl_slist_append(list, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        defer { curl_slist_free_all(list) }
        _ = gantry_curl_set_list(handle, CURLOPT_HTTPHEADER, list)
        _ = gantry_curl_set_header_callback(handle, HTTPTransport.receiveHeader, context)
        _ = gantry_curl_set_write_callback(handle, HTTPTransport.receiveBody, context)
        if progress != nil { _ = gantry_curl_set_progress_callback(handle, HTTPTransport.reportProgress, context) }

        let started = Date()
        let code = curl_easy_perform(handle)
        if let sinkError = exchange.sinkError { throw sinkError }
        if let connectError = exchange.connectError, code != CURLE_OK { throw connectError }
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            if options.verbose { log(request, "failed: \(message)", started) }
            // A stall says more than curl's "Timeout was reached": which limit, and how to change it.
            var explained = message
            if code.rawValue == 28 {
                explained = options.requestTimeout.map { "no complete answer within \($0) s" }
                    ?? "timed out: nothing moved for \(options.stallTimeout) s or no connection within \(options.connectTimeout) s (--stall-timeout, --connect-timeout)"
            }
            throw TransportError(curlCode: Int(code.rawValue), message: explained, url: request.url)
        }
        let status = gantry_curl_response_code(handle)
        if options.verbose { log(request, "\(status)", started) }
        return HTTPResponse(status: status, headers: exchange.headers, body: exchange.memory, url: request.url)
    }

    private func log(_ request: HTTPRequest, _ outcome: String, _ started: Date) {
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        StandardError.write("http: \(request.method) \(Redactor.url(request.url)) -> \(outcome) (\(ms) ms)\n")
    }

    private func set(_ option: CURLoption, _ value: String) { _ = gantry_curl_set_string(handle, option, value) }
    private func setLong(_ option: CURLoption, _ value: Int) { _ = gantry_curl_set_long(handle, option, value) }

    // MARK: C callbacks

    private static let receiveHeader: gantry_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            exchange.headers = [:]  // a new response (after 100 Continue, or a proxy's answer)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespaceAndNewlines()
            exchange.headers[name, default: []].append(value)
        }
        return length
    }

    private static let receiveBody: gantry_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        if exchange.status == 0, let handle = exchange.handle { exchange.status = gantry_curl_response_code(handle) }
        if let sink = exchange.sink, (200..<300).contains(exchange.status) {
            do { try sink.write(bytes) } catch { exchange.sinkError = error; return 0 }
        } else if exchange.memory.count + length <= exchange.memoryLimit {
            exchange.memory.append(contentsOf: bytes)
        } else {
            exchange.sinkError = Failure(.invalidInput, "response larger than \(exchange.memoryLimit >> 10) KiB where a small document was expected")
            return 0
        }
        return length
    }

    private static let readBody: gantry_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        let wanted = Int(min(Int64(size * count), exchange.bodyRemaining))
        guard wanted > 0 else { return 0 }
        var got = 0
        if exchange.bodyFile >= 0 {
            got = read(exchange.bodyFile, buffer, wanted)
            if got <= 0 { return Int(CURL_READFUNC_ABORT) }
        } else {
            got = wanted
            exchange.bodyBytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + exchange.bodyOffset, byteCount: got)
            }
            exchange.bodyOffset += got
        }
        exchange.bodyRemaining -= Int64(got)
        return got
    }

    private static let seekBody: gantry_curl_seek_callback = { context, offset, origin in
        guard let context, origin == SEEK_SET else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        if exchange.bodyFile >= 0 {
            guard offset <= exchange.bodyLength,
                  lseek(exchange.bodyFile, off_t(exchange.bodyFileStart + Int64(offset)), SEEK_SET) >= 0 else { return 1 }
            exchange.bodyRemaining = exchange.bodyLength - Int64(offset)
        } else {
            guard offset <= exchange.bodyBytes.count else { return 1 }
            exchange.bodyOffset = Int(offset)
            exchange.bodyRemaining = Int64(exchange.bodyBytes.count) - Int64(offset)
        }
        return 0  // CURL_SEEKFUNC_OK
    }

    private static let openSocket: gantry_curl_open_socket_callback = { context, _, address in
        guard let context else { return CURL_SOCKET_BAD }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        // Only IPv4 sockets are made: the URL is http://127.0.0.1:PORT.
        guard let provider = exchange.makeSocket, address?.pointee.family == AF_INET else { return CURL_SOCKET_BAD }
        do {
            return try provider()
        } catch {
            exchange.connectError = error
            return CURL_SOCKET_BAD
        }
    }

    private static let reportProgress: gantry_curl_progress_callback = { context, _, downloaded, _, uploaded in
        guard let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        exchange.progress?(Int64(max(downloaded, uploaded)))
        return 0
    }
}
