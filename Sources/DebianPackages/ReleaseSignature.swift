import FoundationEssentials
import Glibc
import Diagnostics
import SystemSupport
import ByteStreams

/// Checks a repository's `InRelease` (or `Release` + `Release.gpg`) against a
/// keyring with gpgv, apt's own verifier, and returns only the bytes the
/// signature covers (gpgv `--output`): nothing outside the signed text is read.
public struct ReleaseSignature {
    /// A directory made for the keyring and gpgv's home, removed after the check.
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// `keys`: each a binary OpenPGP keyring or an ASCII-armored key block
    /// (dearmored here, as `gpg --dearmor` would: gpgv reads binary keyrings only).
    public func verifiedText(of signed: [UInt8], detachedSignature: [UInt8]? = nil, keys: [(name: String, bytes: [UInt8])],
                             describedAs what: String) throws -> [UInt8] {
        guard Subprocess.locate("gpgv") != nil else {
            throw Failure(.unavailable, "gpgv is not installed; it checks \(what) as apt does: apt-get install gpgv")
        }
        guard !keys.isEmpty else {
            throw Failure(.missingInput, "no key to check \(what) with; give the repository's key file in 'packages.repositories' (key:)")
        }
        guard mkdir(directory, 0o700) == 0 else { throw SystemError.failure("create directory", path: directory) }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var arguments = ["--homedir", directory, "--quiet"]
        for (index, key) in keys.enumerated() {
            let binary = try Self.dearmored(key.bytes, name: key.name)
            let path = "\(directory)/key\(index).gpg"
            try Data(binary).write(to: URL(fileURLWithPath: path))
            arguments += ["--keyring", path]
        }
        let signedPath = directory + "/signed"
        try Data(signed).write(to: URL(fileURLWithPath: signedPath))
        let outputPath = directory + "/verified"
        if let detachedSignature {
            let signaturePath = directory + "/signature.gpg"
            try Data(detachedSignature).write(to: URL(fileURLWithPath: signaturePath))
            arguments += [signaturePath, signedPath]
        } else {
            arguments += ["--output", outputPath, signedPath]
        }
        let result = try Subprocess("gpgv", arguments).run()
        guard result.status == 0 else {
            let reason = result.errors.split(separator: "\n").first { $0.contains("BAD signature") || $0.contains("No public key") || $0.contains("no valid OpenPGP") || $0.contains("no signature") }
                .map { $0.hasPrefix("gpgv: ") ? String($0.dropFirst(6)) : String($0) } ?? result.lastErrorLine
            throw Failure(.invalidInput, "\(what) is not signed by a key it must be signed with (\(reason)); check the repository's key (Signed-By, or key: in packages.repositories)")
        }
        if detachedSignature != nil { return signed }
        return try FileReader.readSmallFile(outputPath, limit: 64 << 20)
    }

    /// The binary form of an ASCII-armored OpenPGP block (the base64 between the
    /// armor header's blank line and the `=` checksum line); binary input as it is.
    public static func dearmored(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.contains("-----BEGIN PGP") else { return bytes }
        var inBody = false, seenBlank = false
        var base64 = ""
        for rawLine in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            let line = (rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine).trimmingSpaces
            if line.hasPrefix("-----BEGIN PGP") { inBody = true; continue }
            guard inBody else { continue }
            if line.hasPrefix("-----END PGP") { break }
            if !seenBlank {
                if line.isEmpty { seenBlank = true }
                else if !line.contains(":") { seenBlank = true; base64 += line }  // no armor headers
                continue
            }
            if line.hasPrefix("=") && line.count == 5 { continue }  // CRC-24 checksum
            base64 += line
        }
        guard let data = Data(base64Encoded: base64), !data.isEmpty else {
            throw Failure(.invalidInput, "key \(name) is ASCII-armored but its body is not base64; export it again (gpg --export --armor)")
        }
        return Array(data)
    }
}
