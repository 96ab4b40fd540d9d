import Testing
import OCI
@testable import Recipes
import Images

@Suite struct ImageSettingsTests {
    @Test func envIsMergedByNameKeepingOrder() {
        let merged = ImageSettings.merge(["PATH=/usr/bin", "LANG=C"],
                                         [EnvironmentVariable(name: "LANG", value: "C.UTF-8"), EnvironmentVariable(name: "NEW", value: "1")])
        #expect(merged == ["PATH=/usr/bin", "LANG=C.UTF-8", "NEW=1"])
    }

    @Test func portsAreNormalized() throws {
        #expect(try InputRules.port("8080") == "8080/tcp")
        #expect(try InputRules.port("53/UDP") == "53/udp")
        #expect(throws: (any Error).self) { try InputRules.port("70000") }
        #expect(throws: (any Error).self) { try InputRules.port("80/http") }
    }

    @Test func newEntrypointResetsInheritedCmd() throws {
        var config = ContainerConfig()
        config.cmd = ["bash"]
        var settings = ImageSettings()
        settings.entrypoint = ["python3"]
        try settings.apply(to: &config)
        #expect(config.entrypoint == ["python3"] && config.cmd == nil)
    }

    @Test(arguments: [
        ("oci:/tmp/x:v1", ImageLocation.ociLayout(directory: "/tmp/x", tag: "v1")),
        ("oci:./x", .ociLayout(directory: "./x", tag: nil)),
        ("oci-archive:img.tar", .ociArchive(file: "img.tar")),
        ("rootfs:base.tar", .rootfs(file: "base.tar")),
        ("scratch", .scratch),
    ])
    func parsesLocations(_ text: String, _ expected: ImageLocation) throws {
        #expect(try ImageLocation(parsing: text, role: "test") == expected)
    }

    @Test func dockerArchiveReferenceDefaultsToLatest() throws {
        guard case .dockerArchive(let file, let reference) = try ImageLocation(parsing: "docker-archive:a.tar:myapp", role: "t") else {
            Issue.record("wrong case"); return
        }
        #expect(file == "a.tar" && reference?.tag == "latest")
        #expect(throws: (any Error).self) { try ImageLocation(parsing: "docker-archive:a.tar:Bad/Name", role: "t") }
        #expect(throws: (any Error).self) { try ImageLocation(parsing: "docker:foo", role: "t") }
    }
}
