import Foundation
import Testing
@testable import Locking

@Suite struct LockFileTests {
    static let hex = String(repeating: "ab", count: 32)
    static let other = String(repeating: "cd", count: 32)

    static var sample: LockFile {
        LockFile(recipe: "sha256:" + hex,
                 platforms: ["linux/amd64": .init(base: .init(reference: "python:3.12-slim", digest: "sha256:" + hex),
                                                  python: [.init(name: "flask", version: "3.1.3", url: "https://files.example/flask.whl", sha256: hex)],
                                                  packages: [.init(name: "tini", version: "0.19.0-1+b3", architecture: "amd64",
                                                                   url: "http://deb.example/pool/main/t/tini/tini_0.19.0-1+b3_amd64.deb", size: 267204, sha256: hex)])],
                 models: [.init(source: "az://acct/models/iris/", destination: "/models/iris",
                                files: [.init(path: "classifier.json", identity: "\"0x8DC\"", size: 3246, sha256: hex)])],
                 generator: "gantry 0.2.0")
    }

    @Test func theTextIsStableAndReadsBack() throws {
        let text = try Self.sample.text()
        #expect(try Self.sample.text() == text)
        #expect(try LockFile(text: text, path: "gantry.lock") == Self.sample)
        // One line per entry: a changed wheel is a one-line diff.
        #expect(text.split(separator: "\n").filter { $0.contains("\"flask\"") }.count == 1)
        #expect(text.split(separator: "\n").filter { $0.contains("classifier.json") }.count == 1)
    }

    @Test(arguments: [
        ("{\"lockVersion\": 9}", "gantry.lock is lock format 9, newer than this gantry reads (1)"),
        ("[]", "gantry.lock: not a gantry lock"),
        ("{\"lockVersion\": 1, \"recipe\": \"sha256:12\", \"platforms\": {}}", "recipe 'sha256:12' is not a sha256: digest"),
    ])
    func badLocksAreRefusedNamingTheEntry(_ text: String, _ message: String) {
        #expect { try LockFile(text: text, path: "gantry.lock") } throws: { "\($0)".contains(message) }
    }

    @Test func aHandEditedDigestNamesItsEntry() throws {
        let text = try Self.sample.text().replacingOccurrences(of: "\"sha256\":\"\(Self.hex)\",\"url\":\"https://files.example", with: "\"sha256\":\"XYZ\",\"url\":\"https://files.example")
        #expect { try LockFile(text: text, path: "gantry.lock") } throws: { "\($0)".contains("platforms.linux/amd64.python[0].sha256 'XYZ' is not a SHA-256") }
    }

    @Test func changesAreListedOneLineEach() {
        var moved = Self.sample
        moved.platforms["linux/amd64"]?.python[0].version = "3.1.4"
        moved.platforms["linux/amd64"]?.python[0].sha256 = Self.other
        moved.platforms["linux/amd64"]?.base?.digest = "sha256:" + Self.other
        moved.models[0].files.append(.init(path: "labels.txt", identity: "\"0x8DD\"", size: 28, sha256: Self.other))
        #expect(LockDiff.changes(from: Self.sample, to: moved) == [
            "base linux/amd64: python:3.12-slim sha256:abababababab → python:3.12-slim sha256:cdcdcdcdcdcd",
            "python linux/amd64: flask 3.1.3 abababababab → 3.1.4 cdcdcdcdcdcd",
            "+ model /models/iris: labels.txt cdcdcdcdcdcd (28 bytes)",
        ])
        #expect(LockDiff.changes(from: Self.sample, to: Self.sample).isEmpty)
    }

    @Test func anUpdateTakesOnlyWhatItNames() {
        var fresh = Self.sample
        fresh.platforms["linux/amd64"]?.python[0].version = "3.1.4"
        fresh.platforms["linux/amd64"]?.base?.digest = "sha256:" + Self.other
        fresh.models[0].files[0].sha256 = Self.other
        let python = LockUpdate.merge(old: Self.sample, new: fresh, taking: ["python"])
        #expect(python.platforms["linux/amd64"]?.python[0].version == "3.1.4")
        #expect(python.platforms["linux/amd64"]?.base?.digest == "sha256:" + Self.hex)
        #expect(python.models[0].files[0].sha256 == Self.hex)
        let model = LockUpdate.merge(old: Self.sample, new: fresh, taking: ["iris"])
        #expect(model.models[0].files[0].sha256 == Self.other && model.platforms["linux/amd64"]?.python[0].version == "3.1.3")
        let flask = LockUpdate.merge(old: Self.sample, new: fresh, taking: ["Flask"])
        #expect(flask.platforms["linux/amd64"]?.python[0].version == "3.1.4")
        #expect(LockUpdate.merge(old: Self.sample, new: fresh, taking: ["base", "python", "packages", "model"]) == fresh)
    }
}
