import FoundationEssentials
import Glibc
import HTTP
import ByteStreams
import Diagnostics

/// An S3 object and how to reach it: `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` for
/// S3-compatible stores (path-style), else AWS's virtual-hosted endpoint.
struct S3Object {
    let bucket: String
    let key: String
    let environment: [String: String]

    var region: String {
        environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
    }

    var url: String {
        let encodedKey = key.split(separator: "/", omittingEmptySubsequences: false).map { S3Signer.uriEncode(String($0)) }.joined(separator: "/")
        return bucketRoot + (bucketRoot.hasSuffix("/") ? "" : "/") + encodedKey
    }

    /// ListObjectsV2 for `prefix`, from `continuation` on (a page of up to 1,000 keys).
    func listURL(prefix: String, continuation: String?) -> String {
        var query = "list-type=2&prefix=" + S3Signer.uriEncode(prefix)
        if let continuation { query += "&continuation-token=" + S3Signer.uriEncode(continuation) }
        return bucketRoot + "?" + query
    }

    /// The bucket's root: `ENDPOINT/bucket` path-style below an S3-compatible
    /// endpoint, else `https://bucket.s3.REGION.amazonaws.com/` (virtual-hosted).
    private var bucketRoot: String {
        if let endpoint = (environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]).flatMap({ $0.isEmpty ? nil : $0 }) {
            let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            return "\(base)/\(bucket)"
        }
        return "https://\(bucket).s3.\(region).amazonaws.com/"
    }

    func signer() -> RequestSigner {
        guard let access = environment["AWS_ACCESS_KEY_ID"], !access.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return NoSigner() }
        return S3Signer(accessKey: access, secretKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                        region: region)
    }
}

/// AWS Signature Version 4 for S3 GET/HEAD with `x-amz-content-sha256: UNSIGNED-PAYLOAD`
/// ("Authenticating Requests: Using the Authorization Header").
struct S3Signer: RequestSigner {
    let accessKey: String
    let secretKey: String
    let sessionToken: String?
    let region: String
    var now: @Sendable () -> Date = { Date() }

    func sign(_ request: inout HTTPRequest) throws {
        let date = now()
        let stamp = RequestDate.format(date, "%Y%m%dT%H%M%SZ")
        request.setHeader("x-amz-date", stamp)
        request.setHeader("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        if let sessionToken { request.setHeader("x-amz-security-token", sessionToken) }
        let (signedHeaders, signature) = self.signature(for: request, stamp: stamp)
        let scope = "\(stamp.prefix(8))/\(region)/s3/aws4_request"
        request.setHeader("Authorization", "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)")
    }

    func canonicalRequest(for request: HTTPRequest) -> (signedHeaders: String, text: String) {
        let components = URLComponents(string: request.url)
        let host = (components?.host ?? "") + (components?.port.map { ":\($0)" } ?? "")
        var headers = request.headers.map { ($0.0.lowercased(), $0.1.trimmingWhitespace()) }
            .filter { $0.0 == "range" || $0.0.hasPrefix("x-amz-") || $0.0 == "content-md5" || $0.0 == "content-type" }
        headers.append(("host", host))
        headers.sort { $0.0 < $1.0 }
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let query = (components?.percentEncodedQueryItems ?? [])
            .map { ($0.name, $0.value ?? "") }.sorted { $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let text = [request.method, components?.percentEncodedPath.isEmpty == false ? components!.percentEncodedPath : "/", query,
                    headers.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders,
                    request.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD"].joined(separator: "\n")
        return (signedHeaders, text)
    }

    func signature(for request: HTTPRequest, stamp: String) -> (String, String) {
        let (signedHeaders, canonical) = canonicalRequest(for: request)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/s3/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(SHA256Hasher.hash(Array(canonical.utf8)).hex)"
        var key = HMACSHA256.mac(key: Array("AWS4\(secretKey)".utf8), message: day)
        key = HMACSHA256.mac(key: key, message: region)
        key = HMACSHA256.mac(key: key, message: "s3")
        key = HMACSHA256.mac(key: key, message: "aws4_request")
        return (signedHeaders, HMACSHA256.mac(key: key, message: toSign).hex)
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX (uppercase).
    static func uriEncode(_ text: String) -> String { PercentEncoding.unreserved(text) }
}
