import FoundationEssentials
import Glibc
import Diagnostics

/// Canonical JSON: keys sorted, no insignificant whitespace, `/` not escaped.
/// Same value ⇒ same bytes ⇒ same digest, on any machine.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw Failure(.internalFailure, "cannot encode \(T.self) as JSON: \(error)", cause: error)
        }
    }

    /// Decodes `bytes`, naming `source` (a file or blob) in the error.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], source: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as GantryError {
            throw Failure(source, wrapping: error)
        } catch {
            throw Failure(.invalidInput, "\(source) is not a valid \(T.self): \(describe(error))", cause: error)
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let decodingError = error as? DecodingError else { return "\(error)" }
        switch decodingError {
        case .dataCorrupted(let context): return "malformed JSON at \(path(context.codingPath))"
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)' at \(path(context.codingPath))"
        case .typeMismatch(_, let context): return "wrong type at \(path(context.codingPath))"
        case .valueNotFound(_, let context): return "missing value at \(path(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
