/// License names as SPDX expressions, when they are: `MIT`, `BSD-3-Clause OR
/// Apache-2.0`. Packages write what they like (`BSD License`, `Apache 2.0`, a whole
/// license text); only identifiers from the SPDX list (the ones Python and Debian
/// packages use) joined by AND/OR/WITH pass as declared licenses. Anything else is
/// kept as a comment (SPDX) or a license name (CycloneDX), never guessed.
enum SPDXLicense {
    static let identifiers: Set<String> = [
        "0BSD", "AFL-2.1", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-1.1", "Apache-2.0", "Artistic-2.0", "BlueOak-1.0.0",
        "BSD-1-Clause", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSL-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0",
        "CDDL-1.0", "EPL-1.0", "EPL-2.0", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "HPND",
        "ISC", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later",
        "MIT", "MIT-0", "MPL-1.1", "MPL-2.0", "NCSA", "OFL-1.1", "OpenSSL", "PSF-2.0", "Python-2.0", "Unicode-DFS-2016",
        "Unlicense", "UPL-1.0", "W3C", "WTFPL", "X11", "Zlib", "ZPL-2.1", "OpenRAIL", "OpenRAIL-M", "Llama-2", "LLVM-exception",
        "Classpath-exception-2.0", "GCC-exception-3.1",
    ]

    /// `text` when it is an expression of known identifiers, else nil.
    static func expression(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.count <= 200 else { return nil }
        let spaced = text.replacing("(", with: " ( ").replacing(")", with: " ) ")
        var expectIdentifier = true
        var depth = 0
        for token in spaced.split(separator: " ") {
            switch token {
            case "(":
                guard expectIdentifier else { return nil }
                depth += 1
            case ")":
                guard !expectIdentifier, depth > 0 else { return nil }
                depth -= 1
            case "AND", "OR", "WITH":
                guard !expectIdentifier else { return nil }
                expectIdentifier = true
            default:
                let identifier = token.hasSuffix("+") ? String(token.dropLast()) : String(token)
                guard expectIdentifier, identifiers.contains(identifier) else { return nil }
                expectIdentifier = false
            }
        }
        return !expectIdentifier && depth == 0 ? text : nil
    }

    /// A single known identifier (CycloneDX's `license.id` takes one, not an expression).
    static func identifier(_ text: String?) -> String? {
        guard let text, identifiers.contains(text) else { return nil }
        return text
    }
}
