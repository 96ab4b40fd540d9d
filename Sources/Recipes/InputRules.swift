import FoundationEssentials
import Glibc
import OCI
import Layering
import Diagnostics

/// Checks for every value a recipe or a flag may carry, run before any work.
/// RecipeReader calls them with the value's node, so errors there gain
/// `gantry.yaml:LINE:`; flags get the same checks through `BuildRequest.validate`.
/// Every error is a usage error (exit 64).
public enum InputRules {
    /// `/app`, `/app/` (into), normalized; refused when it would leave `/`.
    public static func destination(_ text: String, what: String = "destination") throws -> String {
        try ImagePath.normalizeDestination(text, what: what)
    }

    /// `8080` → `8080/tcp`; `53/udp` stays. Ports are 1–65535, protocols tcp, udp, sctp.
    public static func port(_ text: String) throws -> String {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        guard parts.count <= 2, let number = Int(parts[0]), (1...65535).contains(number),
              ["tcp", "udp", "sctp"].contains(proto) else {
            throw Failure(.usage, "invalid port '\(text)': expected a number 1-65535, optionally /tcp, /udp or /sctp")
        }
        return "\(number)/\(proto)"
    }


    public static func workdir(_ text: String) throws -> String {
        _ = try ImagePath.normalizeDestination(text, what: "workdir")
        return text
    }

    /// `name`, `uid` or `uid:gid` (image-spec config.md "User"; names need the image's
    /// /etc/passwd, so a group must be numeric where a uid is given).
    public static func user(_ text: String) throws -> String {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let isNumber = { (part: Substring) in !part.isEmpty && part.count <= 10 && part.allSatisfy(\.isASCII) && UInt32(part) != nil }
        let isName = { (part: Substring) in
            !part.isEmpty && !part.hasPrefix("-") && part.count <= 32
                && part.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        }
        let valid = parts.count == 1 ? (isNumber(parts[0]) || isName(parts[0])) : parts.count == 2 && isNumber(parts[0]) && isNumber(parts[1])
        guard valid else {
            throw Failure(.usage, "user '\(text)' must be a name (e.g. app), a uid (1000) or uid:gid (1000:1000)")
        }
        return text
    }

    /// A name for the image in the store (`--tag`, recipe `tag:`): `name[:tag]`
    /// with a repository's lowercase components and a registry tag, so that every
    /// tool reading the store (skopeo `oci:STORE:NAME`, `gantry push`) can name it.
    public static func storeName(_ text: String) throws -> String {
        // The tag follows the last ':' after the last '/'.
        let colon = text.lastIndex(of: ":").flatMap { colon in text.lastIndex(of: "/").map { $0 < colon } ?? true ? colon : nil }
        let name = colon.map { String(text[..<$0]) } ?? text
        let tag = colon.map { String(text[text.index(after: $0)...]) }
        guard !name.isEmpty, name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ Reference.isValidPathComponent(String($0)) }),
              tag.map(Reference.isValidTag) ?? true else {
            throw Failure(.usage, "image name '\(text)' must be NAME[:TAG]: NAME in lowercase letters, digits and . _ - (with / between parts), TAG 1-128 of [A-Za-z0-9_.-], e.g. myapp:1.0")
        }
        return text
    }

    /// A tag (`--push-tag`, `oci:DIR:TAG`): 1-128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
    public static func tag(_ text: String, what: String) throws -> String {
        guard Reference.isValidTag(text) else {
            throw Failure(.usage, "\(what) '\(text)' must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-', e.g. 1.0")
        }
        return text
    }

    public static func environmentName(_ name: String) throws -> String {
        guard !name.isEmpty, !name.contains("="), !name.utf8.contains(0), !name.contains(where: \.isWhitespace) else {
            throw Failure(.usage, "environment variable name '\(name)' must be non-empty, without '=' or spaces")
        }
        return name
    }

    /// A repository for the layer cache: `registry/repository`, no tag or digest
    /// (its entries are tags of their own).
    public static func cacheRepository(_ text: String) throws -> Reference {
        guard let reference = try? Reference(parsing: text), reference.tag == nil, reference.digest == nil,
              text.contains("/") else {
            throw Failure(.usage, "cache repository '\(text)' must be REGISTRY/REPOSITORY without a tag, e.g. myreg.azurecr.io/cache/app")
        }
        return reference
    }

    public static func compression(_ text: String) throws -> Compression {
        try Compression(parsing: text)
    }

    /// `sha256:<64 hex>` or bare hex; upper-case hex is folded to lower case (what
    /// sha256sum on some systems and Azure's portal print).
    public static func modelPin(_ text: String) throws -> Digest {
        let trimmed = text.trimmingWhitespace()
        let hex = (trimmed.lowercased().hasPrefix("sha256:") ? String(trimmed.dropFirst(7)) : trimmed).lowercased()
        guard hex.utf8.count == 64, let digest = try? Digest("sha256:" + hex) else {
            throw Failure(.usage, "model pin '\(text)' is not a SHA-256 digest; expected sha256:<64 hex digits> (e.g. from 'sha256sum MODEL')")
        }
        return digest
    }

    /// The latest second RFC 3339 can write (9999-12-31T23:59:59Z): skopeo and umoci
    /// cannot parse a `created` time with a five-digit year.
    public static let latestEpoch: Int64 = 253_402_300_799

    public static func sourceDateEpoch(_ text: String) throws -> Int64 {
        guard let value = Int64(text), (0...latestEpoch).contains(value) else {
            throw Failure(.usage, "SOURCE_DATE_EPOCH='\(text)' must be whole seconds from 0 to \(latestEpoch) (9999-12-31T23:59:59Z)")
        }
        return value
    }

    public static let threadRange = 1...256

    public static func threads(_ value: Int) throws -> Int {
        guard threadRange.contains(value) else {
            throw Failure(.usage, "--threads \(value) is out of range; use \(threadRange.lowerBound) to \(threadRange.upperBound)")
        }
        return value
    }

    public static func ownership(_ text: String) throws -> String {
        _ = try Ownership.parse(text)
        return text
    }

    /// A layer's file mode: octal permission bits, `644` or `0755` (no set-id or sticky bits).
    public static func fileMode(_ text: String) throws -> (bits: UInt32, text: String) {
        guard (3...4).contains(text.count), text.allSatisfy({ ("0"..."7").contains($0) }),
              let bits = UInt32(text, radix: 8), bits <= 0o777 else {
            throw Failure(.usage, "mode '\(text)' must be octal permission bits, e.g. 0644 or 0755")
        }
        return (bits, text)
    }

    public static func platform(_ text: String) throws -> String {
        _ = try Platform(parsing: text)
        return text
    }

    /// `model.image`: a repository with an optional tag, no digest (the build makes the digest).
    public static func modelImage(_ text: String) throws -> String {
        let reference = try Reference(parsing: text)
        guard reference.digest == nil else {
            throw Failure(.usage, "model image '\(text)' names a digest; give REPOSITORY[:TAG]: the build makes the digest")
        }
        return text
    }

    /// A list of platforms (`platforms:`, `--platform a,b`): at least one, each once.
    public static func platforms(_ texts: [String]) throws -> [String] {
        guard !texts.isEmpty else { throw Failure(.usage, "platforms is empty; list at least one, e.g. [linux/amd64, linux/arm64]") }
        var seen: [Platform] = []
        for text in texts {
            let platform = try Platform(parsing: text)
            if seen.contains(where: { $0.satisfies(platform) }) {
                throw Failure(.usage, "platform \(text) is listed twice; list each platform once")
            }
            seen.append(platform)
        }
        return texts
    }

    /// A volume is an absolute path in the image.
    public static func volume(_ text: String) throws -> String {
        _ = try ImagePath.normalizeDestination(text, what: "volume")
        return text
    }
}

/// `uid[:gid]` → numbers (names would need the image's /etc/passwd).
public enum Ownership {
    public static func parse(_ text: String?) throws -> (uid: UInt32, gid: UInt32) {
        guard let text else { return (0, 0) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let uid = UInt32(parts[0]),
              let gid = parts.count == 2 ? UInt32(parts[1]) : uid else {
            throw Failure(.usage, "ownership '\(text)' must be numeric uid[:gid], e.g. 1000:1000")
        }
        return (uid, gid)
    }
}
