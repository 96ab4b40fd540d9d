import CCrypto

/// The linked OpenSSL (libcrypto), for `gantry --version`.
public enum CryptoVersion {
    public static var text: String {
        OpenSSL_version(Int32(OPENSSL_VERSION)).map { String(cString: $0) } ?? "OpenSSL (unknown)"
    }
}
