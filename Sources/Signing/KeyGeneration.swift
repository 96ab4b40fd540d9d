import FoundationEssentials
import Glibc
import CCrypto
import ByteStreams
import ContentStore
import Diagnostics

/// `gantry key generate`: a new ECDSA P-256 pair as PEM files, the private one
/// PKCS#8 (encrypted with AES-256-CBC when a passphrase is given) and mode 0600,
/// the public one SubjectPublicKeyInfo.
public enum KeyGeneration {
    public static func generate(privateKey: String, publicKey: String, passphrase: String?) throws {
        for path in [privateKey, publicKey] where FileManager.default.fileExists(atPath: path) {
            throw Failure(.cannotCreateOutput, "\(path) already exists; move it away or choose another --output (gantry never overwrites a key)")
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw Failure(.internalFailure, "OpenSSL has no EC keys: \(OpenSSLKey.lastError())")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var generated: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &generated) == 1, let generated else {
            throw Failure(.internalFailure, "OpenSSL could not generate a P-256 key: \(OpenSSLKey.lastError())")
        }
        let key = OpenSSLKey(generated)
        var secret = Array((passphrase ?? "").utf8)
        defer { for index in secret.indices { secret[index] = 0 } }
        let privatePEM = try OpenSSLMemory.write { bio in
            if passphrase == nil {
                return PEM_write_bio_PKCS8PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil) == 1
            }
            return secret.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    PEM_write_bio_PKCS8PrivateKey(bio, key.pointer, EVP_aes_256_cbc(), $0.baseAddress, Int32($0.count), nil, nil) == 1
                }
            }
        }
        try AtomicFile.write(privatePEM, to: privateKey, mode: 0o600)
        do {
            try AtomicFile.write(try key.publicKeyPEM(), to: publicKey, mode: 0o644)
        } catch {
            unlink(privateKey)  // no half of a pair left behind
            throw error
        }
    }
}
