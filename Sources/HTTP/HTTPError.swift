import Diagnostics

/// A request that did not get an HTTP answer (connection refused, reset, timeout,
/// TLS failure). The URL in the message is redacted.
public struct TransportError: GantryError {
    public let curlCode: Int
    public let message: String
    public let url: String

    public var kind: FailureKind { .unavailable }
    public var description: String { "\(Redactor.url(url)): \(message)" }

    /// Connection-level failures worth another try; TLS and bad-URL errors are not.
    public var isRetryable: Bool {
        // curl.h: 6 resolve, 7 connect, 18 partial file, 28 timeout, 52 empty reply,
        // 55 send error, 56 receive error, 16 HTTP/2 framing, 92 HTTP/2 stream error.
        [6, 7, 16, 18, 28, 52, 55, 56, 92].contains(curlCode)
    }
}
