import CCrypto
import Diagnostics

/// An OpenSSL key (`EVP_PKEY`), freed when dropped. Private or public; only
/// ECDSA P-256 keys are accepted: it is the scheme cosign's signature spec requires
/// of every implementation, and the one Kyverno, Ratify and containers/image check.
final class OpenSSLKey: @unchecked Sendable {
    // @unchecked: an EVP_PKEY is only read after it is made, which OpenSSL allows from any thread.
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// The key's curve, e.g. "prime256v1", or nil for a key that is not EC.
    var curveName: String? {
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC else { return nil }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(pointer, &name, name.count, &length) == 1 else { return nil }
        return String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Fails unless this is a P-256 key; `what` names it in the error.
    func requireP256(_ what: String) throws {
        guard let curve = curveName else {
            throw Failure(.invalidInput, "\(what) is not an EC key; gantry signs with ECDSA P-256 keys (cosign's scheme): make one with 'gantry key generate'")
        }
        guard curve == "prime256v1" || curve == "P-256" else {
            throw Failure(.invalidInput, "\(what) is an EC key on \(curve); gantry signs with ECDSA P-256 keys (cosign's scheme): make one with 'gantry key generate'")
        }
    }

    /// SubjectPublicKeyInfo PEM ("PUBLIC KEY"), what `cosign verify --key` reads.
    func publicKeyPEM() throws -> [UInt8] {
        try OpenSSLMemory.write { PEM_write_bio_PUBKEY($0, pointer) == 1 }
    }

    /// The oldest OpenSSL error on this thread, as text (never key material: OpenSSL's
    /// messages name operations and reasons only), and the queue cleared.
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// OpenSSL's memory BIOs: bytes in for the PEM readers, bytes out of the writers.
enum OpenSSLMemory {
    /// Runs `body` with a read-only BIO over `bytes`.
    static func read<T>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw Failure(.internalFailure, "OpenSSL could not allocate a buffer: \(OpenSSLKey.lastError())")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// What `write` put into a fresh memory BIO; it returns false on failure.
    static func write(_ write: (OpaquePointer) -> Bool) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw Failure(.internalFailure, "OpenSSL could not allocate a buffer: \(OpenSSLKey.lastError())")
        }
        defer { BIO_free(bio) }
        guard write(bio) else { throw Failure(.internalFailure, "OpenSSL could not write a key: \(OpenSSLKey.lastError())") }
        let pending = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        guard read == pending else { throw Failure(.internalFailure, "OpenSSL returned \(read) of \(pending) bytes of a key") }
        return bytes
    }
}
