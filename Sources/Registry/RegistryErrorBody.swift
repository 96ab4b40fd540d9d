import Foundation
import OCI

/// The first entry of a registry's error body (distribution spec "Error Codes"):
/// `{"errors":[{"code":"NAME_INVALID","message":"…","detail":…}]}`.
struct RegistryErrorBody: CustomStringConvertible {
    var code: String
    var message: String?
    /// The `detail` field as compact JSON (it may be any JSON value).
    var detail: String?

    init?(_ body: [UInt8]) {
        struct Errors: Decodable {
            struct Item: Decodable { var code: String?; var message: String?; var detail: JSONValue? }
            var errors: [Item]?
        }
        guard let first = (try? JSONDecoder().decode(Errors.self, from: Data(body)))?.errors?.first, let code = first.code else { return nil }
        self.code = code
        message = first.message
        detail = first.detail.flatMap { value -> String? in
            if case .null = value { return nil }
            if case .string(let text) = value { return text.isEmpty ? nil : text }
            return (try? CanonicalJSON.encode(value)).map { String(decoding: $0.prefix(300), as: UTF8.self) }
        }
    }

    var description: String {
        var text = code
        if let message, !message.isEmpty { text += ": \(message)" }
        if let detail { text += " (detail: \(detail.replacingOccurrences(of: "\n", with: " ")))" }
        return text
    }
}
