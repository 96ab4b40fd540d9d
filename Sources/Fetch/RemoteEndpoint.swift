import FoundationEssentials
import Glibc
import HTTP
import Diagnostics

/// The URL of a remote model and how to sign requests to it; turns HTTP answers
/// into errors that name the source (redacted) and say what to do.
struct RemoteEndpoint: Sendable {
    let source: ModelSource
    let url: String
    let signer: RequestSigner
    let retry: RetryPolicy
    /// The ETag the bytes must still have (`If-Match`): a file of a listed set is
    /// fetched as the version the listing named, and a replacement mid-download
    /// answers 412 instead of mixing two versions.
    var ifMatch: String?

    /// One object of a listed set: its URL and the set's signer (one credential
    /// lookup, one managed-identity token, for every file).
    init(source: ModelSource, url: String, signer: RequestSigner, retry: RetryPolicy, ifMatch: String?) {
        self.source = source
        self.url = url
        self.signer = signer
        self.retry = retry
        self.ifMatch = ifMatch
    }

    init(source: ModelSource, environment: [String: String], retry: RetryPolicy = .standard,
         connect: @escaping HTTPClientFactory = HTTPTransport.factory) throws {
        self.source = source
        self.retry = retry
        switch source {
        case .url(let url):
            self.url = url
            signer = NoSigner()
        case .azureBlob(let account, let container, let blob):
            let azure = AzureBlob(account: account, container: container, blob: blob, environment: environment)
            url = azure.url
            signer = try azure.signer(connect: connect)
        case .s3(let bucket, let key):
            let object = S3Object(bucket: bucket, key: key, environment: environment)
            url = object.url
            signer = object.signer()
        case .local(let path):
            throw Failure(.internalFailure, "local model \(path) has no endpoint")
        case .azurePrefix, .s3Prefix:
            throw Failure(.internalFailure, "model source \(source) is a set of files with no single endpoint; this is a bug in gantry")
        }
    }

    func request(_ method: String, range: String? = nil) throws -> HTTPRequest {
        var request = HTTPRequest(method: method, url: url)
        if let range { request.setHeader("Range", range) }
        if let ifMatch { request.setHeader("If-Match", ifMatch) }
        try signer.sign(&request)
        return request
    }

    /// Sends a (freshly signed, per attempt) request with retries on transient failures.
    func send(_ transport: any HTTPClient, _ method: String, range: String? = nil,
              destination: ResponseDestination = .memory(limit: 64 << 10)) throws -> HTTPResponse {
        do {
            return try retry.run { try transport.perform(try request(method, range: range), destination: destination) }
        } catch let error as TransportError {
            throw Failure(.unavailable, "cannot reach model source \(source): \(error.message); check the URL and the network", cause: error)
        }
    }

    /// HEAD for size, ETag, Last-Modified and range support. Presigned S3 URLs are
    /// signed for GET only, so a refused HEAD is retried as a one-byte ranged GET.
    func probe(_ transport: any HTTPClient) throws -> RemoteVersion {
        var response = try send(transport, "HEAD")
        if [400, 403, 405].contains(response.status), case .url = source {
            response = try send(transport, "GET", range: "bytes=0-0", destination: .memory(limit: 1024))
        }
        guard response.isSuccess else { throw failure(response) }
        var size = response.header("Content-Length").flatMap { Int64($0) }
        if response.status == 206, let total = response.header("Content-Range")?.split(separator: "/").last {
            size = Int64(total)
        }
        let ranges = response.status == 206 || response.header("Accept-Ranges")?.lowercased() == "bytes"
        return RemoteVersion(size: size, etag: response.header("ETag"), lastModified: response.header("Last-Modified"),
                             acceptsRanges: ranges)
    }

    func failure(_ response: HTTPResponse) -> Failure {
        switch response.status {
        case 401, 403:
            return Failure(.authentication, "model source \(source) refused access (\(response.status)); check its SAS token, key or credentials and their expiry")
        case 404:
            return Failure(.missingInput, "model source \(source) does not exist (404); check the account, container/bucket and name")
        case 412 where ifMatch != nil:
            return Failure(.unavailable, "model source \(source) was replaced while it was downloaded (its ETag is no longer \(ifMatch ?? "")); run again to fetch the new version")
        default:
            return Failure(.unavailable, "model source \(source) answered \(response.status)")
        }
    }
}
