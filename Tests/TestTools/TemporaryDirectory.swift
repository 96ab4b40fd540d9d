import Foundation

/// Helpers for unit tests that touch files and tools (Layering, ImageContents).
///
/// A fresh directory under /tmp, removed when the test drops it.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "gantry-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    public func write(_ relative: String, _ text: String, mode: Int = 0o644) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        return full
    }
}

/// Runs a tool gantry did not write and returns its standard output. Standard
/// input comes from a temp file so that a large input cannot deadlock the pipes.
public func run(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe()
    process.standardOutput = output
    var inputFile: String?
    if let stdin {
        let path = NSTemporaryDirectory() + "gantry-stdin-" + UUID().uuidString
        try stdin.write(to: URL(fileURLWithPath: path))
        process.standardInput = FileHandle(forReadingAtPath: path)
        inputFile = path
    }
    defer { if let inputFile { try? FileManager.default.removeItem(atPath: inputFile) } }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}
