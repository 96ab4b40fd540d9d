import Testing
@testable import OCI

@Suite struct ReferenceTests {
    static let digest = "sha256:" + String(repeating: "0", count: 64)

    @Test(arguments: [
        ("python", "docker.io", "library/python", nil as String?),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim"),
        ("user/app:v1", "docker.io", "user/app", "v1"),
        ("localhost:5000/app", "localhost:5000", "app", nil),
        ("localhost/app:1", "localhost", "app", "1"),
        ("myreg.azurecr.io/base/python-flask:1.0", "myreg.azurecr.io", "base/python-flask", "1.0"),
        ("127.0.0.1:5000/a/b__c/d-e.f:tag_1", "127.0.0.1:5000", "a/b__c/d-e.f", "tag_1"),
    ])
    func parsesNames(_ text: String, registry: String, repository: String, tag: String?) throws {
        let reference = try Reference(parsing: text)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
    }

    @Test func parsesTagAndDigest() throws {
        let reference = try Reference(parsing: "myreg.azurecr.io/base/python-flask:1.0@\(Self.digest)")
        #expect(reference.tag == "1.0")
        #expect(reference.digest?.description == Self.digest)
        #expect(reference.description == "myreg.azurecr.io/base/python-flask:1.0@\(Self.digest)")
    }

    @Test(arguments: [
        "", "Upper/case", "a//b", "app:", "app:-tag", "app@sha256:123", "-app", "app-",
        "app:" + String(repeating: "t", count: 129), "host:99999/app", "a/b:c:d",
    ])
    func rejectsInvalidReferences(_ text: String) {
        #expect(throws: (any Error).self) { try Reference(parsing: text) }
    }
}
