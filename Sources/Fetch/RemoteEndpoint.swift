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
        }
    }

    func request(_ method: String, range: String? = nil) throws -> HTTPRequest {
        var request = HTTPRequest(method: method, url: url)
        if let range { request.setHeader("Range", range) }
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
        default:
            return Failure(.unavailable, "model source \(source) answered \(response.status)")
        }
    }
}
