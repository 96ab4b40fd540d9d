import FoundationEssentials
import Glibc
import HTTP
import Diagnostics

/// Where a model comes from.
public enum ModelSource: Sendable, Equatable, CustomStringConvertible {
    /// Any HTTPS (or loopback HTTP) URL, Azure SAS and S3 presigned URLs included.
    case url(String)
    /// `az://ACCOUNT/CONTAINER/BLOB`
    case azureBlob(account: String, container: String, blob: String)
    /// `s3://BUCKET/KEY`
    case s3(bucket: String, key: String)
    /// `az://ACCOUNT/CONTAINER/PREFIX/` (the trailing `/` says so): every blob under
    /// the prefix, a set of files; `az://ACCOUNT/CONTAINER/` is the whole container.
    case azurePrefix(account: String, container: String, prefix: String)
    /// `s3://BUCKET/PREFIX/`: every object under the prefix.
    case s3Prefix(bucket: String, prefix: String)
    case local(path: String)

    public init(parsing text: String) throws {
        func parts(_ rest: Substring, count: Int, form: String) throws -> [String] {
            let pieces = rest.split(separator: "/", maxSplits: count - 1, omittingEmptySubsequences: false).map(String.init)
            guard pieces.count == count, pieces.allSatisfy({ !$0.isEmpty }) else {
                throw Failure(.usage, "model source '\(Redactor.url(text))' must look like \(form)")
            }
            return pieces
        }
        if text.hasSuffix("/"), text.hasPrefix("az://") || text.hasPrefix("s3://") {
            // A prefix: the first one or two components name the container or bucket, the rest is the prefix.
            let isAzure = text.hasPrefix("az://")
            let form = isAzure ? "az://ACCOUNT/CONTAINER/PREFIX/" : "s3://BUCKET/PREFIX/"
            let pieces = text.dropFirst(5).split(separator: "/", maxSplits: isAzure ? 2 : 1, omittingEmptySubsequences: false).map(String.init)
            let named = pieces.prefix(isAzure ? 2 : 1)
            guard pieces.count == (isAzure ? 3 : 2), named.allSatisfy({ !$0.isEmpty }),
                  !pieces.last!.split(separator: "/", omittingEmptySubsequences: false).dropLast().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw Failure(.usage, "model source '\(Redactor.url(text))' must look like \(form) (no empty, . or .. components)")
            }
            self = isAzure ? .azurePrefix(account: pieces[0], container: pieces[1], prefix: pieces[2])
                           : .s3Prefix(bucket: pieces[0], prefix: pieces[1])
        } else if text.hasPrefix("az://") {
            let p = try parts(text.dropFirst(5), count: 3, form: "az://ACCOUNT/CONTAINER/BLOB")
            self = .azureBlob(account: p[0], container: p[1], blob: p[2])
        } else if text.hasPrefix("s3://") {
            let p = try parts(text.dropFirst(5), count: 2, form: "s3://BUCKET/KEY")
            self = .s3(bucket: p[0], key: p[1])
        } else if text.hasPrefix("https://") || text.hasPrefix("http://") {
            self = .url(text)
        } else if text.contains("://") {
            throw Failure(.usage, "model source '\(Redactor.url(text))': unknown scheme; use https://, az://, s3:// or a local path")
        } else {
            self = .local(path: text)
        }
    }

    /// Safe to print and to record in a label: signatures and tokens removed.
    public var description: String {
        switch self {
        case .url(let url): return Redactor.url(url)
        case .azureBlob(let account, let container, let blob): return "az://\(account)/\(container)/\(blob)"
        case .s3(let bucket, let key): return "s3://\(bucket)/\(key)"
        case .azurePrefix(let account, let container, let prefix): return "az://\(account)/\(container)/\(prefix)"
        case .s3Prefix(let bucket, let prefix): return "s3://\(bucket)/\(prefix)"
        case .local(let path): return path
        }
    }

    /// Whether it names a set of files (a prefix) rather than one.
    public var isPrefix: Bool {
        switch self {
        case .azurePrefix, .s3Prefix: return true
        default: return false
        }
    }

    /// The file name a model gets in the image when no destination names one.
    public var fileName: String {
        let path: String
        switch self {
        case .url(let url): path = String(url.split(separator: "?", maxSplits: 1)[0])
        case .azureBlob(_, _, let blob): path = blob
        case .s3(_, let key): path = key
        case .azurePrefix(_, let container, let prefix): path = prefix.isEmpty ? container : prefix
        case .s3Prefix(let bucket, let prefix): path = prefix.isEmpty ? bucket : prefix
        case .local(let local): path = local
        }
        return path.split(separator: "/").last.map(String.init) ?? "model"
    }
}
