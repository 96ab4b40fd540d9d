import Diagnostics

/// A request that did not get an HTTP answer (connection refused, reset, timeout,
/// TLS failure). The URL in the message is redacted.
public struct TransportError: GantryError {
    public let curlCode: Int
    public let message: String
    public let url: String
    /// What was being reached, e.g. "token service of registry myreg.azurecr.io", for the message.
    public var role: String?

    public init(curlCode: Int, message: String, url: String, role: String? = nil) {
        self.curlCode = curlCode
        self.message = message
        self.url = url
        self.role = role
    }

    public var kind: FailureKind { .unavailable }
    public var description: String {
        guard let role else { return "\(Redactor.url(url)): \(message)" }
        return "\(role) at \(Redactor.url(url)) cannot be reached: \(message)"
    }

    /// curl could not complete a TLS handshake (CURLE_SSL_CONNECT_ERROR), e.g. the
    /// server speaks plain HTTP.
    public var isTLSHandshakeFailure: Bool { curlCode == 35 }

    public func named(_ role: String) -> TransportError {
        var copy = self
        copy.role = role
        return copy
    }

    /// Connection-level failures worth another try; TLS and bad-URL errors are not.
    public var isRetryable: Bool {
        // curl.h: 6 resolve, 7 connect, 18 partial file, 28 timeout, 52 empty reply,
        // 55 send error, 56 receive error, 16 HTTP/2 framing, 92 HTTP/2 stream error.
        [6, 7, 16, 18, 28, 52, 55, 56, 92].contains(curlCode)
    }
}
