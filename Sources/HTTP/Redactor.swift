/// Removes secrets from anything gantry prints: query parameters that carry
/// signatures or tokens (Azure SAS `sig`, S3 `X-Amz-Signature`/`X-Amz-Credential`,
/// `token`, `access_token`, …), credentials in a URL's user part, and header values
/// of Authorization-like headers.
public enum Redactor {
    static let secretParameters: Set<String> = [
        "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
        "token", "access_token", "refresh_token", "password", "client_secret", "se", "code",
    ]
    static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "x-ms-authorization", "cookie", "set-cookie"]

    public static func url(_ url: String) -> String {
        var text = url
        // user:password@ in the authority
        if let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            let slash = text[scheme.upperBound...].firstIndex(of: "/") ?? text.endIndex
            if at < slash { text.replaceSubrange(scheme.upperBound...at, with: "***@") }
        }
        guard let question = text.firstIndex(of: "?") else { return text }
        let base = text[...question]
        let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, secretParameters.contains(parts[0].lowercased()) else { return String(pair) }
            return "\(parts[0])=REDACTED"
        }
        return base + query.joined(separator: "&")
    }

    public static func header(_ name: String, _ value: String) -> String {
        secretHeaders.contains(name.lowercased()) ? "\(name): REDACTED" : "\(name): \(value)"
    }
}
