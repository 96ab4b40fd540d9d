import CCurl

/// The linked libcurl and what it was built with, for `gantry --version`.
public enum CurlVersion {
    /// e.g. "libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 … nghttp2/1.52.0".
    public static var text: String {
        curl_version().map { String(cString: $0) } ?? "libcurl (unknown)"
    }
}
