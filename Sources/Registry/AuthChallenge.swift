import FoundationEssentials
import Glibc

/// A `WWW-Authenticate` challenge (RFC 7235; distribution docs/spec/auth/token.md):
/// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
struct AuthChallenge: Equatable {
    var scheme: String
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }
    var scope: String? { parameters["scope"] }

    init?(header: String) {
        let trimmed = header.trimmingWhitespace()
        guard let space = trimmed.firstIndex(of: " ") else {
            guard !trimmed.isEmpty else { return nil }
            scheme = trimmed.lowercased()
            parameters = [:]
            return
        }
        scheme = trimmed[..<space].lowercased()
        parameters = AuthChallenge.parseParameters(String(trimmed[trimmed.index(after: space)...]))
    }

    /// `key="value", key2=value2` — commas inside quotes belong to the value.
    static func parseParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            while index < text.endIndex, text[index] == " " || text[index] == "," { index = text.index(after: index) }
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingWhitespace().lowercased()
            index = text.index(after: equals)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                let end = text[index...].firstIndex(of: ",") ?? text.endIndex
                value = text[index..<end].trimmingWhitespace()
                index = end
            }
            result[key] = value
        }
        return result
    }
}
