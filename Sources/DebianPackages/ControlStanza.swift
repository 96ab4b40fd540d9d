/// One paragraph of a Debian control file (`Packages`, `Release`, dpkg's
/// `status`, a package's `control`, deb822 `.sources`): fields in their order,
/// multi-line values kept with their continuation lines, names case-insensitive.
public struct ControlStanza: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(fields: [(name: String, value: String)] = []) { self.fields = fields }

    public static func == (a: ControlStanza, b: ControlStanza) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// The stanza as control-file text, ending with a newline.
    public var text: String {
        fields.map { "\($0.name): \($0.value)\n" }.joined()
    }

    /// The paragraphs of `text`: blank lines separate them, a line starting with
    /// a space or tab continues the field before it, `#` lines are comments.
    public static func parse(_ text: Substring) -> [ControlStanza] {
        var result: [ControlStanza] = []
        var current: [(name: String, value: String)] = []
        // "\r\n" is one Character in Swift: splitting on isNewline takes both ends of line.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if !current.isEmpty { result.append(ControlStanza(fields: current)) }
                current = []
                continue
            }
            if line.first == "#" { continue }
            if line.first == " " || line.first == "\t" {
                if !current.isEmpty { current[current.count - 1].value += "\n" + line }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            current.append((String(line[..<colon]), String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())))
        }
        if !current.isEmpty { result.append(ControlStanza(fields: current)) }
        return result
    }

    public static func parse(_ text: String) -> [ControlStanza] { parse(Substring(text)) }
}
