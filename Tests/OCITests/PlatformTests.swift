import Testing
@testable import OCI

@Suite struct PlatformTests {
    @Test func parsesOsArchVariant() throws {
        let platform = try Platform(parsing: "linux/arm64/v8")
        #expect(platform.os == "linux" && platform.architecture == "arm64" && platform.variant == "v8")
        #expect(platform.description == "linux/arm64/v8")
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: (any Error).self) { try Platform(parsing: text) }
    }

    @Test func missingVariantMatches() throws {
        #expect(Platform(os: "linux", architecture: "arm64").satisfies(try Platform(parsing: "linux/arm64/v8")))
        #expect(!Platform(os: "linux", architecture: "amd64").satisfies(try Platform(parsing: "linux/arm64")))
    }
}
