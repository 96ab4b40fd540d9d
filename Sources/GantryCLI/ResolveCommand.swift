import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import ContentStore
import Registry
import ByteStreams
import Diagnostics

/// `gantry resolve -f FILE`: like `ko resolve`, pins every `image:` in a YAML file
/// to the digest its tag points at now, keeping the rest of the file as written.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Replace image references in YAML with digest-pinned ones looked up in the registry.")

    @Option(name: [.customShort("f"), .customLong("file")], help: "YAML file to resolve ('-' for standard input).")
    var file: String

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let text: String
        if file == "-" {
            text = String(decoding: try FileReader.readStandardInput(), as: UTF8.self)
        } else {
            guard FileManager.default.fileExists(atPath: file) else {
                throw Failure(.missingInput, "\(file) does not exist")
            }
            text = String(decoding: try FileReader.readSmallFile(file), as: UTF8.self)
        }
        let settings = try registry.settings()
        let store = try self.store.open()
        var resolved: [String: String] = [:]
        let lines = try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { number, line -> String in
            guard let match = ImageLine(String(line)) else { return String(line) }
            let source = "\(file == "-" ? "stdin" : file):\(number + 1)"
            if let known = resolved[match.reference] { return match.replacing(with: known) }
            guard var reference = try? Reference(parsing: match.reference) else {
                throw Failure(.usage, "\(source): image '\(match.reference)' is not a valid image reference")
            }
            if reference.digest == nil {
                do {
                    reference.digest = try ImagePuller(store: store, session: try settings.session(for: reference.registry), observer: nil)
                        .resolveDigest(reference)
                } catch let error as GantryError {
                    throw Failure("\(source): image \(match.reference) cannot be resolved", wrapping: error)
                }
            }
            let pinned = "\(reference.name)@\(reference.digest!)"
            resolved[match.reference] = pinned
            return match.replacing(with: pinned)
        }
        print(lines.joined(separator: "\n"), terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}

/// A YAML line `image: REF` (optionally a list item, quoted, with a comment).
struct ImageLine {
    let prefix: String
    let quote: String
    let reference: String
    let suffix: String

    init?(_ line: String) {
        guard let match = line.wholeMatch(of: #/(\s*(?:-\s+)?image:\s*)(["']?)([^"'\s#]+)(["']?)(\s*(?:#.*)?)/#) else { return nil }
        prefix = String(match.1); quote = String(match.2); reference = String(match.3); suffix = String(match.5)
    }

    func replacing(with reference: String) -> String { prefix + quote + reference + quote + suffix }
}
