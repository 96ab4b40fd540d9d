import Foundation
import Testing
import ContentStore
import Layering
@testable import ImageBuild

/// The layer-cache key changes with anything that shapes the layer, and only then.
@Suite struct LayerCacheKeyTests {
    @Test func keyFollowsContentModeOwnerAndSettings() throws {
        let root = NSTemporaryDirectory() + "gantry-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/src/pkg", withIntermediateDirectories: true)
        try Data("print(1)\n".utf8).write(to: URL(fileURLWithPath: root + "/src/pkg/a.py"))
        try FileManager.default.createSymbolicLink(atPath: root + "/src/link", withDestinationPath: "pkg/a.py")
        let cache = LayerCache(store: try ContentStore(root: root + "/store"), enabled: true)
        let settings = LayerSettings(compression: .gzip(level: 6), mtime: 0, threads: 1)
        func key(_ options: FileSetOptions = FileSetOptions(destination: "/app"), _ settings: LayerSettings = settings) throws -> String {
            try cache.key(for: try FileSet(source: root + "/src", options: options), settings: settings).key
        }
        let first = try key()
        #expect(try key() == first)
        #expect(try key(FileSetOptions(destination: "/srv")) != first)
        #expect(try key(FileSetOptions(destination: "/app", uid: 1000, gid: 1000)) != first)
        #expect(try key(FileSetOptions(destination: "/app"), LayerSettings(compression: .gzip(level: 6), mtime: 1, threads: 1)) != first)
        // The thread count does not shape the bytes, so it does not change the key.
        #expect(try key(FileSetOptions(destination: "/app"), LayerSettings(compression: .gzip(level: 6), mtime: 0, threads: 4)) == first)
        chmod(root + "/src/pkg/a.py", 0o755)
        let executable = try key()
        #expect(executable != first)
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, root + "/src/pkg/a.py", &times, 0)
        #expect(try key() != executable)
        try FileManager.default.removeItem(atPath: root + "/src/link")
        try FileManager.default.createSymbolicLink(atPath: root + "/src/link", withDestinationPath: "pkg/./a.py")
        #expect(try key() != executable)
    }
}
