import HTTP

/// The distribution spec's blob-upload requests and the answer that opens a
/// session, written once for `BlobUploader` (resumable, retried) and
/// `StreamingUpload` (best effort, while the blob is written).
enum UploadRequests {
    /// POST …/blobs/uploads/: asks for a session.
    static func open(_ client: RegistryClient, repository: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: client.url("/v2/\(repository)/blobs/uploads/"))
    }

    /// The session an answer to `open` gives (202 with a Location): its absolute URL
    /// and the smallest chunk the registry takes (OCI-Chunk-Min-Length, 0 if unsaid).
    static func session(from response: HTTPResponse, client: RegistryClient) -> (location: String, minimumChunk: Int64)? {
        guard response.status == 202, let location = response.header("Location") else { return nil }
        return (client.absolute(location), Int64(response.header("OCI-Chunk-Min-Length") ?? "") ?? 0)
    }

    /// PATCH of `length` bytes of `path` from `offset`.
    static func chunk(_ location: String, path: String, offset: Int64, length: Int64) -> HTTPRequest {
        var request = HTTPRequest(method: "PATCH", url: location, body: .file(path: path, offset: offset, length: length))
        // distribution spec: inclusive range, no "bytes " prefix (ACR rejects it, dotnet/sdk-container-builds#258).
        request.setHeader("Content-Range", "\(offset)-\(offset + length - 1)")
        request.setHeader("Content-Length", "\(length)")
        return request
    }

    /// The session URL with the blob's digest, for the closing PUT.
    static func closing(_ location: String, digest: String) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
    }

    /// DELETE: drops a session gantry gives up on.
    static func cancel(_ location: String) -> HTTPRequest {
        HTTPRequest(method: "DELETE", url: location)
    }
}
