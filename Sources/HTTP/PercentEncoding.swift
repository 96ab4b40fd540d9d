/// RFC 3986 percent-encoding that keeps only the unreserved ASCII characters
/// (`A-Z a-z 0-9 - . _ ~`), as SigV4 and form bodies require. (Foundation's
/// `.alphanumerics` would also keep non-ASCII letters.)
public enum PercentEncoding {
    public static func unreserved(_ text: String) -> String {
        encode(text, keeping: isUnreserved)
    }

    /// For a URL path: also keeps `/` and what RFC 3986 allows in a path segment
    /// (`! $ & ' ( ) * + , ; = : @`), as Foundation's `.urlPathAllowed` does.
    public static func path(_ text: String) -> String {
        encode(text) { isUnreserved($0) || "/!$&'()*+,;=:@".utf8.contains($0) }
    }

    /// Encodes every byte `keep` refuses.
    public static func encode(_ text: String, keeping keep: (UInt8) -> Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if keep(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xf, radix: 16, uppercase: true)
            }
        }
        return encoded
    }

    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
