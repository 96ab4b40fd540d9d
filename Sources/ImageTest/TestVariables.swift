import OCI
import Diagnostics

/// Fills `${NAME}` in a test plan's strings from the image under test, so a
/// recipe can expect what the build recorded: `${IMAGE_DIGEST}` (the manifest's),
/// `${MODEL_DIGEST}` (`sha256:…`, from the io.gantry.model.digest label),
/// `${MODEL_SHA256}` (its hex alone); for an image with several models (`models:`),
/// `${MODEL_DIGEST:NAME}` and `${MODEL_SHA256:NAME}` from io.gantry.model.NAME.digest;
/// `${label:KEY}`, `${env:NAME}` (the
/// container's environment). `$${` stays a literal `${`.
public struct TestVariables: Sendable {
    private var values: [String: String]

    public init(imageDigest: String, labels: [String: String], environment: [String]) {
        values = ["IMAGE_DIGEST": imageDigest]
        if let model = labels["io.gantry.model.digest"] {
            values["MODEL_DIGEST"] = model
            values["MODEL_SHA256"] = model.hasPrefix("sha256:") ? String(model.dropFirst(7)) : model
        }
        for (key, value) in labels {
            values["label:" + key] = value
            let prefix = "io.gantry.model.", suffix = ".digest"
            if key.hasPrefix(prefix), key.hasSuffix(suffix), key.count > prefix.count + suffix.count {
                let name = String(key.dropFirst(prefix.count).dropLast(suffix.count))
                values["MODEL_DIGEST:" + name] = value
                values["MODEL_SHA256:" + name] = value.hasPrefix("sha256:") ? String(value.dropFirst(7)) : value
            }
        }
        for variable in environment {
            guard let equals = variable.firstIndex(of: "=") else { continue }
            values["env:" + variable[..<equals]] = String(variable[variable.index(after: equals)...])
        }
    }

    /// `text` with every `${NAME}` replaced; an unknown name is an error naming `place`.
    public func expand(_ text: String, in place: String) throws -> String {
        guard text.contains("${") else { return text }
        var result = "", rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                result += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw Failure(.usage, "\(place): '${' without a closing '}' in '\(text)'")
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = values[name] else {
                throw Failure(.usage, "\(place): unknown variable ${\(name)}\(hint(for: name)); known: IMAGE_DIGEST, MODEL_DIGEST, MODEL_SHA256, MODEL_DIGEST:NAME, MODEL_SHA256:NAME, label:KEY, env:NAME")
            }
            result += rest[..<start.lowerBound] + value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    private func hint(for name: String) -> String {
        guard name.hasPrefix("MODEL") else { return "" }
        let named = values.keys.filter { $0.hasPrefix("MODEL_DIGEST:") }.map { String($0.dropFirst(13)) }.sorted()
        if !named.isEmpty {
            return " (the image has several models: name one, e.g. ${MODEL_DIGEST:\(named[0])}; its models: \(named.joined(separator: ", ")))"
        }
        return " (the image has no io.gantry.model.digest label: was it built with a model?)"
    }

    /// Every string in `value` (keys too) expanded.
    public func expand(_ value: JSONValue, in place: String) throws -> JSONValue {
        switch value {
        case .string(let text): return .string(try expand(text, in: place))
        case .array(let items): return .array(try items.map { try expand($0, in: place) })
        case .object(let fields):
            var expanded: [String: JSONValue] = [:]
            for (key, field) in fields { expanded[try expand(key, in: place)] = try expand(field, in: place) }
            return .object(expanded)
        default: return value
        }
    }
}
