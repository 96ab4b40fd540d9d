import Foundation

/// RFC 3986 percent-encoding that keeps only the unreserved ASCII characters
/// (`A-Z a-z 0-9 - . _ ~`), as SigV4 and form bodies require. (Foundation's
/// `.alphanumerics` would also keep non-ASCII letters.)
public enum PercentEncoding {
    static let unreservedSet = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func unreserved(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreservedSet) ?? text
    }
}
