import FoundationEssentials
import Glibc
import ContentStore
import ByteStreams
import Fetch
import Diagnostics

/// `gantry model fetch SET --output DIR`: the set's files copied into a new
/// directory under their names; a directory this made is removed again when a
/// copy fails, so nothing half-written is left.
enum ModelCopy {
    static func write(_ files: [FetchedModel.ModelFile], from directory: String, into output: String) throws {
        guard !FileManager.default.fileExists(atPath: output) else {
            throw Failure(.cannotCreateOutput, "--output \(output) exists; a set of files is written into a new directory, so choose one that does not exist yet")
        }
        guard mkdir(output, 0o755) == 0 else { throw SystemError.failure("create directory", path: output) }
        do {
            for file in files {
                var parent = output
                for component in file.relativePath.split(separator: "/").dropLast() {
                    parent += "/" + component
                    guard mkdir(parent, 0o755) == 0 || errno == EEXIST else { throw SystemError.failure("create directory", path: parent) }
                }
                try AtomicFile.write(to: output + "/" + file.relativePath) { sink in
                    try FileReader.forEachChunk(of: directory + "/" + file.relativePath) { try sink.write($0) }
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        }
    }
}
