import Foundation
import Testing
import Layering
@testable import ImageBuild

/// Keys of the registry layer cache name contents, not file stamps: a fresh
/// checkout of the same tree finds the entry, a changed byte or mode does not.
@Suite struct RemoteLayerKeyTests {
    let root = NSTemporaryDirectory() + "gantry-remote-key-" + UUID().uuidString
    let settings = LayerSettings(compression: .default, mtime: 0, threads: 1)

    func tree(_ name: String, content: String = "print(1)\n", mode: mode_t = 0o644) throws -> FileSet {
        let directory = "\(root)/\(name)"
        try FileManager.default.createDirectory(atPath: directory + "/pkg", withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: directory + "/pkg/a.py"))
        chmod(directory + "/pkg/a.py", mode)
        return try FileSet(source: directory, options: FileSetOptions(destination: "/app"))
    }

    @Test func aFreshCheckoutOfTheSameFilesHasTheSameKey() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try filesKey(try tree("one"), settings: settings)
        usleep(20_000)  // other mtimes and inodes, same bytes
        #expect(try filesKey(try tree("two"), settings: settings) == first)
        #expect(try filesKey(try tree("three", content: "print(2)\n"), settings: settings) != first)
        #expect(try filesKey(try tree("four", mode: 0o755), settings: settings) != first)
        #expect(try filesKey(try tree("five"), settings: LayerSettings(compression: .zstd(level: 3), mtime: 0, threads: 1)) != first)
    }

    @Test func pythonAndModelKeysFollowTheirInputs() {
        let python = { (requirements: String, tag: String) in
            RemoteLayerKey.python(requirements: Array(requirements.utf8), platformTag: tag, pythonVersion: "3.11",
                                  target: "/opt/gantry/python", settings: settings)
        }
        #expect(python("flask==3.1.3\n", "manylinux_2_28_x86_64") == python("flask==3.1.3\n", "manylinux_2_28_x86_64"))
        #expect(python("flask==3.1.3\n", "manylinux_2_28_x86_64") != python("flask==3.1.2\n", "manylinux_2_28_x86_64"))
        #expect(python("flask==3.1.3\n", "manylinux_2_28_x86_64") != python("flask==3.1.3\n", "manylinux_2_28_aarch64"))
        let model = { (identity: String, destination: String) in
            RemoteLayerKey.model(identity: identity, destination: destination, settings: settings)
        }
        #expect(model("source az://a/b/c\netag:\"1\" size:10", "/models/m") != model("source az://a/b/c\netag:\"2\" size:10", "/models/m"))
        #expect(model("sha256 x", "/models/m") != model("sha256 x", "/models/n"))
        #expect(model("sha256 x", "/models/m").count == 64)
    }
}

private func filesKey(_ fileSet: FileSet, settings: LayerSettings) throws -> String {
    try RemoteLayerKey.files(fileSet, settings: settings).key
}
