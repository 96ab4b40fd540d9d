import FoundationEssentials
import ByteStreams

/// A Python distribution installed in the dependencies layer, from its
/// `NAME-VERSION.dist-info/METADATA` (core metadata: `Name`, `Version`,
/// `License-Expression` (PEP 639), else `License`, else the license classifiers).
public struct PythonPackage: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    public var license: String?

    public init(name: String, version: String, license: String? = nil) {
        self.name = name
        self.version = version
        self.license = license
    }
}

public enum PythonDistributions {
    /// Every distribution directly under `directory` (a `pip install --target` tree), by name.
    public static func read(directory: String) -> [PythonPackage] {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return entries.filter { $0.hasSuffix(".dist-info") }.compactMap { entry in
            guard let bytes = try? FileReader.readSmallFile(directory + "/" + entry + "/METADATA", limit: 4 << 20) else { return nil }
            return metadata(String(decoding: bytes, as: UTF8.self))
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// The header part of a METADATA file (up to the first blank line: the rest is the description).
    static func metadata(_ text: String) -> PythonPackage? {
        var name: String?, version: String?, expression: String?, license: String?
        var classifiers: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line == "\r" { break }
            guard let colon = line.firstIndex(of: ":"), line.first != " " else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            switch key {
            case "Name": name = name ?? value
            case "Version": version = version ?? value
            case "License-Expression": expression = value
            case "License": license = license ?? value
            case "Classifier" where value.hasPrefix("License :: "):
                classifiers.append(String(value.split(separator: ":").last.map { $0.trimmingWhitespace() } ?? ""))
            default: break
            }
        }
        guard let name, let version else { return nil }
        // A License field is sometimes the whole license text: only a short one is a name.
        let shortLicense = license.flatMap { $0.count <= 80 && !$0.contains("\n") && $0 != "UNKNOWN" && !$0.isEmpty ? $0 : nil }
        let found = expression ?? shortLicense ?? (classifiers.isEmpty ? nil : classifiers.joined(separator: " AND "))
        return PythonPackage(name: name, version: version, license: found)
    }
}
