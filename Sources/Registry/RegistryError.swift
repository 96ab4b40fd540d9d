import FoundationEssentials
import Glibc
import HTTP
import OCI
import Diagnostics

/// A registry's refusal or failure of one operation, as a value: the status, the
/// error entries of the body (distribution spec "Error Codes":
/// `{"errors":[{"code":"NAME_INVALID","message":"…","detail":…}]}`), what was being
/// done, and the exit code that fits (a refusal is not an outage). Its line is what
/// gantry prints.
public struct RegistryError: GantryError {
    public struct Entry: Sendable, Equatable {
        public var code: String
        public var message: String?
        /// The `detail` field as compact JSON (it may be any JSON value).
        public var detail: String?
    }

    public let registry: String
    /// What was being done, e.g. "blob sha256:1234abcd in team/app".
    public let operation: String
    public let status: Int
    public let entries: [Entry]
    public let kind: FailureKind
    public let description: String

    public var codes: [String] { entries.map(\.code) }

    /// Reads an unexpected answer. `hasCredentials` decides what a 401 means: no
    /// credentials found, or credentials refused.
    public init(_ response: HTTPResponse, operation: String, registry: String, hasCredentials: Bool) {
        self.registry = registry
        self.operation = operation
        status = response.status
        entries = Self.entries(response.body)
        let first = entries.first
        let shown = first.map { " \(Self.describe($0))" }
            ?? (response.bodyText.isEmpty ? "" : " (\(response.bodyText.prefix(200).replacing("\n", with: " ")))")
        let code = first?.code ?? ""
        let what = operation
        (kind, description) = {
            if response.status == 401 || code == "UNAUTHORIZED" {
                guard hasCredentials else { return RegistryError.noCredentials(registry: registry, for: what) }
                return (.authentication, "registry \(registry) refused the credentials for \(what): \(response.status)\(shown); run 'gantry login \(registry)'")
            }
            if response.status == 403 || code == "DENIED" {
                return (.authentication, "registry \(registry) denied \(what): \(response.status)\(shown); the credentials lack push/pull rights on it")
            }
            switch code {
            case "NAME_INVALID", "TAG_INVALID":
                return (.usage, "registry \(registry) refused the name for \(what): \(response.status)\(shown); check the repository and tag")
            case "NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN":
                return (.missingInput, "registry \(registry) has no \(what): \(response.status)\(shown)")
            default: break
            }
            if response.status == 404 {
                return (.missingInput, "registry \(registry) has no \(what): 404\(shown)")
            }
            if response.status == 413 {
                return (.invalidInput, "registry \(registry) refused \(what) as too large: 413\(shown); try a smaller --chunk-size")
            }
            if (400..<500).contains(response.status) && !RetryPolicy.isTransient(status: response.status) {
                return (.invalidInput, "registry \(registry) refused \(what): \(response.status)\(shown)")
            }
            return (.unavailable, "registry \(registry) answered \(response.status) to \(what)\(shown); try again later")
        }()
    }

    /// The line for a registry that wants credentials gantry does not have.
    static func noCredentials(registry: String, for what: String) -> (FailureKind, String) {
        (.authentication, "registry \(registry) requires authentication for \(what) and gantry found no credentials for it; run 'gantry login \(registry)', or set GANTRY_REGISTRY_USERNAME/GANTRY_REGISTRY_PASSWORD or GANTRY_REGISTRY_TOKEN")
    }

    static func entries(_ body: [UInt8]) -> [Entry] {
        struct Errors: Decodable {
            struct Item: Decodable { var code: String?; var message: String?; var detail: JSONValue? }
            var errors: [Item]?
        }
        guard let items = (try? JSONDecoder().decode(Errors.self, from: Data(body)))?.errors else { return [] }
        return items.compactMap { item in
            guard let code = item.code else { return nil }
            let detail = item.detail.flatMap { value -> String? in
                if case .null = value { return nil }
                if case .string(let text) = value { return text.isEmpty ? nil : text }
                return (try? CanonicalJSON.encode(value)).map { String(decoding: $0.prefix(300), as: UTF8.self) }
            }
            return Entry(code: code, message: item.message, detail: detail)
        }
    }

    static func describe(_ entry: Entry) -> String {
        var text = entry.code
        if let message = entry.message, !message.isEmpty { text += ": \(message)" }
        if let detail = entry.detail { text += " (detail: \(detail.replacing("\n", with: " ")))" }
        return text
    }
}
