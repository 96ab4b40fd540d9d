/// Sends one request and returns the whole answer: what the registry client and
/// the model downloads need from HTTP. `HTTPTransport` (libcurl) is the real one;
/// tests script one to drive the push, pull and download state machines without
/// a network.
///
/// Contract: any HTTP status is returned, never thrown; a request that got no
/// answer throws `TransportError`; a 2xx body goes to the destination's sink, any
/// other body to memory. An instance serves one thread at a time.
public protocol HTTPClient: AnyObject {
    func perform(_ request: HTTPRequest, destination: ResponseDestination, progress: ((Int64) -> Void)?) throws -> HTTPResponse
}

extension HTTPClient {
    public func perform(_ request: HTTPRequest, destination: ResponseDestination = .memory(limit: 4 << 20)) throws -> HTTPResponse {
        try perform(request, destination: destination, progress: nil)
    }
}

/// Makes a client for one thread (each worker of a push owns its connection).
public typealias HTTPClientFactory = @Sendable (HTTPOptions) throws -> any HTTPClient

extension HTTPTransport {
    /// The real thing: a libcurl handle per client.
    public static let factory: HTTPClientFactory = { try HTTPTransport(options: $0) }
}
