import Foundation
import Testing
import Diagnostics
import ByteStreams
@testable import Layering
import TestTools

/// `TarReader(inflateAside:)`: a gzip layer inflated on a thread of its own reads
/// exactly as libarchive reads it inline, including what other tools write (several
/// gzip members, padding after the last); a cut-off stream is an error. The gzip
/// files are written by Python's tarfile and gzip modules.
@Suite struct BackgroundInflaterTests {
    let scratch: TemporaryDirectory

    init() throws { scratch = try TemporaryDirectory() }

    /// A tar of a few small files and a 3 MiB one (past several of the inflater's
    /// buffers), gzipped as `layer.tar.gz` (one member) and `members.tar.gz` (the
    /// tar cut in three, each piece its own member, then 1 KiB of zeros).
    func writeLayers() throws {
        let script = """
        from io import BytesIO; import gzip, random, sys, tarfile  # (a line starting 'import' would read as a Swift import)
        directory = sys.argv[1]
        buffer = BytesIO()
        rng = random.Random(5)
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as out:
            for name, size in [("a.txt", 10), ("dir/b.bin", 3 << 20), ("dir/c.txt", 0), ("z.txt", 70000)]:
                info = tarfile.TarInfo(name); info.size = size
                out.addfile(info, BytesIO(bytes(rng.getrandbits(8) for _ in range(size))))
        data = buffer.getvalue()
        open(directory + "/layer.tar.gz", "wb").write(gzip.compress(data, mtime=0))
        cuts = [0, 1000003, 2500000, len(data)]
        members = b"".join(gzip.compress(data[a:b], mtime=0) for a, b in zip(cuts, cuts[1:]))
        open(directory + "/members.tar.gz", "wb").write(members + bytes(1024))
        """
        let (status, _) = try run("python3", ["-c", script, scratch.path])
        try #require(status == 0)
    }

    /// Every entry's name and the SHA-256 of its data, in order.
    func entries(of path: String, inflateAside: Bool) throws -> [String] {
        let reader = try TarReader(path: path, role: "test layer", inflateAside: inflateAside)
        var seen: [String] = []
        while let entry = try reader.nextEntry() {
            let hasher = SHA256Hasher()
            try reader.readData { hasher.update($0) }
            seen.append("\(TarReader.path(of: entry) ?? "") \(hasher.finish().map { String($0, radix: 16) }.joined())")
        }
        return seen
    }

    @Test func aGzipLayerInflatedAsideReadsAsLibarchiveReadsIt() throws {
        try writeLayers()
        let inline = try entries(of: scratch.path + "/layer.tar.gz", inflateAside: false)
        #expect(inline.count == 4)
        #expect(try entries(of: scratch.path + "/layer.tar.gz", inflateAside: true) == inline)
        #expect(try entries(of: scratch.path + "/members.tar.gz", inflateAside: true) == inline)
    }

    @Test func aCutOffGzipLayerIsAnErrorNotAShortTar() throws {
        try writeLayers()
        let path = scratch.path + "/layer.tar.gz"
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        #expect { try entries(of: path, inflateAside: true) } throws: { "\($0)".contains("truncated") }
    }

    /// A reader that stops early (an unpack that failed half-way) ends the thread:
    /// the thread holds the inflater until it returns, so the inflater goes away.
    @Test func aReaderThatStopsEarlyEndsTheInflatingThread() throws {
        try writeLayers()
        weak var gone: BackgroundInflater?
        do {
            let inflater = try BackgroundInflater(path: scratch.path + "/layer.tar.gz")
            gone = inflater
            #expect(try inflater.next().count > 0)
            inflater.abandon()
        }
        for _ in 0..<200 where gone != nil { usleep(10_000) }
        #expect(gone == nil)
    }
}
