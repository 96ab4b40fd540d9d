import CXML2
import Diagnostics
import SystemSupport

/// One object a blob-storage listing names.
public struct ListedBlob: Sendable, Equatable {
    /// Its full name (Azure blob name, S3 key), prefix included.
    public var name: String
    public var size: Int64
    /// Its ETag in the quoted form HEAD answers with, so a listing and a HEAD of
    /// the same version compare equal (Azure lists it bare, S3 quoted).
    public var etag: String?
    /// Azure `VersionId` when blob versioning is on.
    public var versionId: String?

    public init(name: String, size: Int64, etag: String? = nil, versionId: String? = nil) {
        self.name = name
        self.size = size
        self.etag = etag.map(ListedBlob.quoted)
        self.versionId = versionId
    }

    static func quoted(_ etag: String) -> String {
        etag.hasPrefix("\"") || etag.hasPrefix("W/\"") ? etag : "\"\(etag)\""
    }
}

/// One page of a listing: its objects, and where the next page starts (Azure
/// `NextMarker`, S3 `NextContinuationToken`), nil on the last.
struct BlobListingPage: Sendable, Equatable {
    var blobs: [ListedBlob] = []
    var next: String?
}

/// The two listing dialects gantry reads.
enum BlobListingFormat: Sendable {
    /// Azure List Blobs: `EnumerationResults/Blobs/Blob` with `Name`,
    /// `Properties/Content-Length`, `Properties/Etag`; `NextMarker`.
    case azure
    /// S3 ListObjectsV2: `ListBucketResult/Contents` with `Key`, `Size`, `ETag`;
    /// `NextContinuationToken` while `IsTruncated`.
    case s3
}

/// Reads a listing page with libxml2's streaming reader (xmlTextReader): one pass,
/// element by element, so a page of thousands of entries never becomes a tree.
/// No network access and no external entities (XML_PARSE_NONET, no NOENT); libxml2's
/// own error printing is off, its last error becomes the message.
enum BlobListingParser {
    static func parse(_ bytes: [UInt8], format: BlobListingFormat, source: String) throws -> BlobListingPage {
        initializeOnce
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        guard let reader = bytes.withUnsafeBufferPointer({ buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { xmlReaderForMemory($0, Int32(buffer.count), nil, nil, options) }
            } ?? nil
        }) else {
            throw Failure(.invalidInput, "the listing of \(source) is empty; check that the endpoint is a blob-storage service")
        }
        defer { xmlFreeTextReader(reader) }

        var page = BlobListingPage()
        var path: [String] = []
        var text = ""
        var entry: [String: String] = [:]
        var truncated: Bool?
        var root: String?
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            guard status == 1 else { throw malformed(source) }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? ""
                root = root ?? name
                path.append(name)
                text = ""
                if xmlTextReaderIsEmptyElement(reader) == 1 {
                    try close(path, text: "", format: format, entry: &entry, page: &page, truncated: &truncated, source: source)
                    path.removeLast()
                }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                text += xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                try close(path, text: text, format: format, entry: &entry, page: &page, truncated: &truncated, source: source)
                text = ""
                if !path.isEmpty { path.removeLast() }
            default:
                break
            }
        }
        let expected = format == .azure ? "EnumerationResults" : "ListBucketResult"
        guard root == expected else {
            throw Failure(.invalidInput, "the listing of \(source) is not an \(expected) document (it is \(root.map { "<\($0)>" } ?? "empty")); check that the endpoint is a blob-storage service")
        }
        if format == .s3, truncated == false { page.next = nil }
        return page
    }

    /// An element ends: a field of the entry being read, the entry itself, or a page field.
    private static func close(_ path: [String], text: String, format: BlobListingFormat, entry: inout [String: String],
                              page: inout BlobListingPage, truncated: inout Bool?, source: String) throws {
        let inner = path.dropFirst().joined(separator: "/")
        switch (format, inner) {
        case (.azure, "Blobs/Blob/Name"), (.azure, "Blobs/Blob/VersionId"), (.azure, "Blobs/Blob/Properties/Content-Length"),
             (.azure, "Blobs/Blob/Properties/Etag"), (.azure, "Blobs/Blob/Properties/ResourceType"),
             (.s3, "Contents/Key"), (.s3, "Contents/Size"), (.s3, "Contents/ETag"):
            entry[String(inner.split(separator: "/").last!)] = text
        case (.azure, "Blobs/Blob"), (.s3, "Contents"):
            defer { entry = [:] }
            if entry["ResourceType"] == "directory" { return }  // a hierarchical namespace's directory: no bytes
            guard let name = entry["Name"] ?? entry["Key"], !name.isEmpty,
                  let size = (entry["Content-Length"] ?? entry["Size"]).flatMap({ Int64($0) }), size >= 0 else {
                throw Failure(.invalidInput, "the listing of \(source) has an entry without a name or size; check that the endpoint is a blob-storage service")
            }
            let etag = (entry["Etag"] ?? entry["ETag"]).flatMap { $0.isEmpty ? nil : $0 }
            page.blobs.append(ListedBlob(name: name, size: size, etag: etag, versionId: entry["VersionId"].flatMap { $0.isEmpty ? nil : $0 }))
        case (.azure, "NextMarker"), (.s3, "NextContinuationToken"):
            page.next = text.isEmpty ? nil : text
        case (.s3, "IsTruncated"):
            truncated = text == "true"
        default:
            break
        }
    }

    private static func malformed(_ source: String) -> Failure {
        var detail = "malformed XML"
        if let error = xmlGetLastError() {
            let message = error.pointee.message.map { String(cString: $0).trimmingWhitespace() } ?? ""
            detail = "malformed XML at line \(error.pointee.line)" + (message.isEmpty ? "" : ": \(message)")
        }
        return Failure(.invalidInput, "the listing of \(source) is \(detail); check that the endpoint is a blob-storage service")
    }

    /// libxml2 asks for one initialization before threads use it.
    private static let initializeOnce: Void = { xmlInitParser() }()
}
