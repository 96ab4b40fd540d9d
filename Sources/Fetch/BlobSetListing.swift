import FoundationEssentials
import HTTP
import Diagnostics

/// A model published as a prefix in blob storage (`az://ACCOUNT/CONTAINER/PREFIX/`,
/// `s3://BUCKET/PREFIX/`): how to list it page by page (Azure List Blobs paged by
/// `NextMarker`, S3 ListObjectsV2 paged by continuation token, each page under
/// the one retry policy) and how to reach each listed file with the same
/// credentials. Credentials are resolved once for the whole set.
struct BlobSetListing: Sendable {
    let source: ModelSource
    private let format: BlobListingFormat
    private let prefix: String
    private let signer: RequestSigner
    private let retry: RetryPolicy
    private let pageURL: @Sendable (_ next: String?) -> String
    private let fileURL: @Sendable (_ name: String) -> String
    private let fileSource: @Sendable (_ name: String) -> ModelSource

    /// The largest listing page read (Azure pages are ~1 KiB per name, 5,000 names).
    static let pageLimit = 32 << 20

    init(source: ModelSource, environment: [String: String], retry: RetryPolicy,
         connect: @escaping HTTPClientFactory) throws {
        self.source = source
        self.retry = retry
        switch source {
        case .azurePrefix(let account, let container, let prefix):
            let azure = { @Sendable (name: String) in AzureBlob(account: account, container: container, blob: name, environment: environment) }
            format = .azure
            self.prefix = prefix
            signer = try azure("").signer(connect: connect)
            pageURL = { azure("").listURL(prefix: prefix, marker: $0) }
            fileURL = { azure($0).url }
            fileSource = { .azureBlob(account: account, container: container, blob: $0) }
        case .s3Prefix(let bucket, let prefix):
            let object = { @Sendable (key: String) in S3Object(bucket: bucket, key: key, environment: environment) }
            format = .s3
            self.prefix = prefix
            signer = object("").signer()
            pageURL = { object("").listURL(prefix: prefix, continuation: $0) }
            fileURL = { object($0).url }
            fileSource = { .s3(bucket: bucket, key: $0) }
        default:
            throw Failure(.internalFailure, "model source \(source) is not a prefix; this is a bug in gantry")
        }
    }

    /// Every file under the prefix that `selecting` keeps (it sees names relative to
    /// the prefix), sorted by name. Directory markers (names ending in `/`) and
    /// hidden names (a component starting with `.`) are left out, as in a local model
    /// directory. `progress` hears the count listed so far after each page.
    func list(_ transport: any HTTPClient, selecting: (String) -> Bool = { _ in true },
              progress: (Int) -> Void = { _ in }) throws -> [ListedBlob] {
        var kept: [ListedBlob] = []
        var listed = 0
        var next: String?
        repeat {
            let page = try fetchPage(transport, next: next)
            listed += page.blobs.count
            progress(listed)
            for var blob in page.blobs {
                guard blob.name.hasPrefix(prefix) else {
                    throw Failure(.invalidInput, "the listing of \(source) named \(blob.name), which is outside the prefix; check the endpoint")
                }
                let relative = String(blob.name.dropFirst(prefix.count))
                if (relative.isEmpty || relative.hasSuffix("/")) && blob.size == 0 { continue }  // a "folder" marker
                try Self.checkName(relative, in: source)
                if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) || !selecting(relative) { continue }
                blob.name = relative
                kept.append(blob)
            }
            if page.next == next && next != nil {
                throw Failure(.invalidInput, "the listing of \(source) returned the same page marker twice; the service is misbehaving, try again later")
            }
            next = page.next
        } while next != nil
        kept.sort { $0.name < $1.name }
        try Self.checkNoCollisions(kept, in: source)
        guard !kept.isEmpty else {
            let what = listed == 0 ? "holds no blobs" : "holds \(listed) blob\(listed == 1 ? "" : "s"), none selected by include/exclude (hidden names and folder markers are left out)"
            throw Failure(.missingInput, "model source \(source) \(what); check the \(format == .azure ? "account, container" : "bucket") and prefix")
        }
        return kept
    }

    /// How to download one listed file: its URL, the set's signer, and its listed
    /// ETag as `If-Match`, so a replacement mid-download is caught.
    func endpoint(for blob: ListedBlob) -> RemoteEndpoint {
        RemoteEndpoint(source: fileSource(prefix + blob.name), url: fileURL(prefix + blob.name), signer: signer, retry: retry,
                       ifMatch: blob.etag)
    }

    /// The single-file source of a listed file (its cache key and the name messages use).
    func fileSource(for blob: ListedBlob) -> ModelSource { fileSource(prefix + blob.name) }

    private func fetchPage(_ transport: any HTTPClient, next: String?) throws -> BlobListingPage {
        let response: HTTPResponse
        do {
            response = try retry.run {
                var request = HTTPRequest(method: "GET", url: pageURL(next))
                try signer.sign(&request)
                return try transport.perform(request, destination: .memory(limit: Self.pageLimit))
            }
        } catch let error as TransportError {
            throw Failure(.unavailable, "cannot list model source \(source): \(error.message); check the URL and the network", cause: error)
        }
        switch response.status {
        case 200:
            return try BlobListingParser.parse(response.body, format: format, source: source.description)
        case 401, 403:
            let permission = format == .azure
                ? "List permission on the container (a SAS with sp=l, or a role such as Storage Blob Data Reader)"
                : "s3:ListBucket on the bucket"
            throw Failure(.authentication, "listing model source \(source) was refused (\(response.status)); the credentials need \(permission)")
        case 404:
            throw Failure(.missingInput, "model source \(source): the \(format == .azure ? "container" : "bucket") does not exist (404); check its name")
        default:
            throw Failure(.unavailable, "listing model source \(source) failed (\(response.status)); try again later")
        }
    }

    /// A listed name must stay inside the model's directory: no empty, `.` or `..`
    /// components, no leading `/`, no control characters (they would also forge
    /// lines of the set's digest listing).
    static func checkName(_ name: String, in source: ModelSource) throws {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Failure(.invalidInput, "model source \(source) lists '\(name.debugDescription.dropFirst().dropLast())', a name that would land outside the model's directory or cannot be a file name; rename or remove that blob, or exclude it")
        }
    }

    /// A name cannot be both a file and the directory of another (`a` and `a/b`).
    static func checkNoCollisions(_ sorted: [ListedBlob], in source: ModelSource) throws {
        let names = Set(sorted.map(\.name))
        for blob in sorted {
            var parent = Substring(blob.name)
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                if names.contains(String(parent)) {
                    throw Failure(.invalidInput, "model source \(source) lists both '\(parent)' and '\(blob.name)': one name would be a file and a directory; exclude one of them")
                }
            }
        }
    }
}
