import FoundationEssentials
import Glibc
import HTTP
import ByteStreams
import Diagnostics

/// Azure Blob Storage authentication, chosen from the environment:
/// `AZURE_STORAGE_SAS_TOKEN` (appended to the URL), `AZURE_STORAGE_KEY` (Shared
/// Key), `AZURE_STORAGE_TOKEN` (an Entra ID bearer token), a managed identity
/// (`IDENTITY_ENDPOINT`+`IDENTITY_HEADER`, or IMDS with `AZURE_STORAGE_AUTH=managed-identity`),
/// else anonymous (a public container).
struct AzureBlob {
    /// REST version sent with signed requests; bearer tokens need 2017-11-09 or later.
    static let version = "2021-08-06"

    let account: String
    let container: String
    let blob: String
    let environment: [String: String]

    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`, or below
    /// `AZURE_STORAGE_BLOB_ENDPOINT` (Azurite, sovereign clouds, tests).
    var url: String {
        let path = [container, blob].map(PercentEncoding.path)
        return withSAS(serviceEndpoint + "/" + path.joined(separator: "/"), query: [])
    }

    /// List Blobs for `prefix`, from `marker` on (a page of up to 5,000 names).
    func listURL(prefix: String, marker: String?) -> String {
        var query = ["restype=container", "comp=list", "prefix=" + PercentEncoding.unreserved(prefix)]
        if let marker { query.append("marker=" + PercentEncoding.unreserved(marker)) }
        return withSAS(serviceEndpoint + "/" + PercentEncoding.path(container), query: query)
    }

    private var serviceEndpoint: String {
        let endpoint = environment["AZURE_STORAGE_BLOB_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "https://\(account).blob.core.windows.net"
        return endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
    }

    /// The SAS token goes after the request's own parameters.
    private func withSAS(_ url: String, query: [String]) -> String {
        var parameters = query
        if let sas = environment["AZURE_STORAGE_SAS_TOKEN"], !sas.isEmpty {
            parameters.append(sas.hasPrefix("?") ? String(sas.dropFirst()) : sas)
        }
        return parameters.isEmpty ? url : url + "?" + parameters.joined(separator: "&")
    }

    /// `connect` reaches the managed identity endpoint, when that is the credential.
    func signer(connect: @escaping HTTPClientFactory = HTTPTransport.factory) throws -> RequestSigner {
        if let sas = environment["AZURE_STORAGE_SAS_TOKEN"], !sas.isEmpty { return NoSigner() }
        if let key = environment["AZURE_STORAGE_KEY"], !key.isEmpty {
            guard let decoded = Data(base64Encoded: key) else {
                throw Failure(.usage, "AZURE_STORAGE_KEY is not base64; copy the storage account's access key as shown in the portal")
            }
            let keyAccount = environment["AZURE_STORAGE_ACCOUNT"].flatMap { $0.isEmpty ? nil : $0 } ?? account
            return SharedKeySigner(account: keyAccount, key: Array(decoded))
        }
        if let token = environment["AZURE_STORAGE_TOKEN"], !token.isEmpty { return BearerSigner(token: token) }
        if environment["IDENTITY_ENDPOINT"] != nil || environment["AZURE_STORAGE_AUTH"] == "managed-identity" {
            return BearerSigner(token: try ManagedIdentity(environment: environment, connect: connect).storageToken())
        }
        return NoSigner()
    }
}

/// `Authorization: SharedKey <account>:<base64 HMAC-SHA256>` over the Blob
/// service's string-to-sign ("Authorize with Shared Key", version 2009-09-19+).
struct SharedKeySigner: RequestSigner {
    let account: String
    let key: [UInt8]
    var now: @Sendable () -> Date = { Date() }

    func sign(_ request: inout HTTPRequest) throws {
        // Ranges go in x-ms-range, as the Azure SDKs send them: it is signed among
        // the x-ms-* headers, and the standard Range slot of the string stays empty.
        if let range = request.header("Range") {
            request.setHeader("Range", nil)
            request.setHeader("x-ms-range", range)
        }
        request.setHeader("x-ms-date", RequestDate.http(now()))
        request.setHeader("x-ms-version", AzureBlob.version)
        request.setHeader("Authorization", "SharedKey \(account):\(signature(for: request))")
    }

    func stringToSign(for request: HTTPRequest) -> String {
        func header(_ name: String) -> String { request.header(name) ?? "" }
        var contentLength = header("Content-Length")
        if contentLength == "0" { contentLength = "" }
        var lines = [request.method, header("Content-Encoding"), header("Content-Language"), contentLength,
                     header("Content-MD5"), header("Content-Type"), header("Date"), header("If-Modified-Since"),
                     header("If-Match"), header("If-None-Match"), header("If-Unmodified-Since"), header("Range")]
        let msHeaders = request.headers
            .map { ($0.0.lowercased(), $0.1) }
            .filter { $0.0.hasPrefix("x-ms-") }
            .sorted { $0.0 < $1.0 }
        var text = lines.joined(separator: "\n") + "\n"
        for (name, value) in msHeaders { text += "\(name):\(value)\n" }
        lines = []
        // Canonicalized resource: /account/path, then each query parameter on its own line.
        let components = URLComponents(string: request.url)
        text += "/\(account)\(components?.percentEncodedPath ?? "")"
        let query = (components?.queryItems ?? []).map { ($0.name.lowercased(), $0.value ?? "") }.sorted { $0.0 < $1.0 }
        for (name, value) in query { text += "\n\(name):\(value)" }
        return text
    }

    func signature(for request: HTTPRequest) -> String {
        Data(HMACSHA256.mac(key: key, message: stringToSign(for: request))).base64EncodedString()
    }
}

/// `Authorization: Bearer <token>` for Entra ID (managed identity, service principal) access.
struct BearerSigner: RequestSigner {
    let token: String

    func sign(_ request: inout HTTPRequest) throws {
        request.setHeader("x-ms-version", AzureBlob.version)
        request.setHeader("x-ms-date", RequestDate.http(Date()))
        request.setHeader("Authorization", "Bearer \(token)")
    }
}

/// A storage token from the Azure managed identity endpoint: App Service / Container
/// Apps style (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) or the VM/AKS instance
/// metadata service. Resource `https://storage.azure.com/`.
struct ManagedIdentity {
    let environment: [String: String]
    var connect: HTTPClientFactory = HTTPTransport.factory

    func storageToken() throws -> String {
        let resource = "https%3A%2F%2Fstorage.azure.com%2F"
        var request: HTTPRequest
        if let endpoint = environment["IDENTITY_ENDPOINT"], !endpoint.isEmpty {
            request = HTTPRequest(method: "GET", url: "\(endpoint)?api-version=2019-08-01&resource=\(resource)")
            request.setHeader("X-IDENTITY-HEADER", environment["IDENTITY_HEADER"])
        } else {
            request = HTTPRequest(method: "GET", url: "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=\(resource)")
            request.setHeader("Metadata", "true")
        }
        if let clientID = environment["AZURE_CLIENT_ID"], !clientID.isEmpty { request.url += "&client_id=\(clientID)" }
        let client = try connect(HTTPOptions())
        let response = try RetryPolicy.metadataService.run { try client.perform(request) }
        struct Reply: Decodable { var access_token: String }
        guard response.isSuccess, let reply = try? JSONDecoder().decode(Reply.self, from: Data(response.body)) else {
            throw Failure(.authentication, "the managed identity endpoint gave no storage token (status \(response.status)); check the identity's role on the storage account")
        }
        return reply.access_token
    }
}
