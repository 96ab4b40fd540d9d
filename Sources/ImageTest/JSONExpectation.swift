import OCI

/// Whether an answer contains what a check expects: every key of an expected
/// object (the answer may have more), arrays of the same length matched element
/// by element, numbers by value (`1` equals `1.0`), anything else exactly.
public enum JSONExpectation {
    /// nil when `actual` contains `expected`, else what differs and where
    /// (`predictions[0].label: expected "setosa", got "virginica"`).
    public static func mismatch(expected: JSONValue, actual: JSONValue, at path: String = "") -> String? {
        let place = path.isEmpty ? "the answer" : path
        switch (expected, actual) {
        case (.object(let wanted), .object(let got)):
            for key in wanted.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let value = got[key] else { return "\(child): missing (the answer has \(describeKeys(got)))" }
                if let problem = mismatch(expected: wanted[key]!, actual: value, at: child) { return problem }
            }
            return nil
        case (.array(let wanted), .array(let got)):
            guard wanted.count == got.count else { return "\(place): expected \(wanted.count) items, got \(got.count)" }
            for (index, pair) in zip(wanted, got).enumerated() {
                if let problem = mismatch(expected: pair.0, actual: pair.1, at: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            if let left = number(expected), let right = number(actual) {
                return left == right ? nil : "\(place): expected \(render(expected)), got \(render(actual))"
            }
            return expected == actual ? nil : "\(place): expected \(render(expected)), got \(render(actual))"
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let integer): return Double(integer)
        case .number(let number): return number
        default: return nil
        }
    }

    private static func describeKeys(_ object: [String: JSONValue]) -> String {
        object.isEmpty ? "no keys" : "keys " + object.keys.sorted().prefix(8).joined(separator: ", ")
    }

    /// A short JSON-like rendering for messages.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let integer): return String(integer)
        case .number(let number): return String(number)
        case .string(let text): return "\"\(text.count > 80 ? String(text.prefix(80)) + "…" : text)\""
        case .array(let items): return "an array of \(items.count)"
        case .object(let fields): return "an object with \(describeKeys(fields))"
        }
    }
}
