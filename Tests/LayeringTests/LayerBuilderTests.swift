import Foundation
import Testing
import ByteStreams
import OCI
@testable import Layering
import TestTools

@Suite struct LayerBuilderTests {
    @Test func tarIsReadableByGNUTarWithLongNamesAndLinks() throws {
        let dir = try TemporaryDirectory()
        let longName = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 150) + ".txt"
        try dir.write("src/" + longName, "long")
        try dir.write("src/a.txt", "a")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/src/l", withDestinationPath: "a.txt")
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app", uid: 1000, gid: 1000))
        let out = CollectingSink()
        let blob = try LayerBuilder.build(set, settings: LayerSettings(compression: .none), into: out)
        #expect(blob.diffID == blob.descriptor.digest)  // uncompressed: one digest
        #expect(blob.descriptor.mediaType == MediaType.ociLayer)
        #expect(blob.descriptor.digest == Digest(sha256: SHA256Hasher.hash(out.bytes)))
        let (status, listing) = try run("tar", ["-tv", "--numeric-owner", "-f", "-"], stdin: Data(out.bytes))
        #expect(status == 0)
        let text = String(decoding: listing, as: UTF8.self)
        #expect(text.contains("app/" + longName))
        #expect(text.contains("app/l -> a.txt"))
        #expect(text.contains("1000/1000"))
        #expect(text.contains("1970-01-01"))
    }

    @Test func gzipLayerDigestsMatchTheBytes() throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/main.py", String(repeating: "print('hi')\n", count: 1000))
        let set = try FileSet(source: dir.path + "/src", options: FileSetOptions(destination: "/app"))
        let out = CollectingSink()
        let blob = try LayerBuilder.build(set, settings: LayerSettings(mtime: 1_700_000_000, threads: 2), into: out)
        #expect(blob.descriptor.digest == Digest(sha256: SHA256Hasher.hash(out.bytes)))
        #expect(blob.descriptor.size == Int64(out.bytes.count))
        let (_, tar) = try run("gzip", ["-dc"], stdin: Data(out.bytes))
        #expect(blob.diffID == Digest(sha256: SHA256Hasher.hash(Array(tar))))
        #expect(blob.uncompressedSize == Int64(tar.count))
    }
}
