/// What to send.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header name/value pairs, sent in order. Authorization is never logged.
    public var headers: [(String, String)]
    public var body: HTTPBody

    public init(method: String, url: String, headers: [(String, String)] = [], body: HTTPBody = .empty) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.last { $0.0.lowercased() == name.lowercased() }?.1
    }

    public mutating func setHeader(_ name: String, _ value: String?) {
        headers.removeAll { $0.0.lowercased() == name.lowercased() }
        if let value { headers.append((name, value)) }
    }
}

/// A request body: nothing, a small in-memory document, or a byte range of a
/// file streamed from disk (blobs are never loaded into memory).
public enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    case file(path: String, offset: Int64, length: Int64)

    public var length: Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }
}

/// What came back. `body` holds the response only when it went to memory
/// (small documents and error bodies), never a streamed blob.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Lowercased header names; repeated headers keep every value.
    public var headers: [String: [String]]
    public var body: [UInt8]
    /// The URL that answered (after any redirect).
    public var url: String

    public init(status: Int, headers: [String: [String]], body: [UInt8], url: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()]?.last }

    public var isSuccess: Bool { (200..<300).contains(status) }

    public var bodyText: String { String(decoding: body.prefix(4096), as: UTF8.self) }
}
