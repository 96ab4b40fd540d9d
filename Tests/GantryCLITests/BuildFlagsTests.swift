import Testing
import OCI
import Images
import ImageBuild
import Recipes
import Publishing
@testable import GantryCLI

/// The flags of `gantry build` mapped onto a BuildRequest and a PublishPlan
/// (issue 23: only integration tests reached this mapping before).
@Suite struct BuildFlagsTests {
    @Test func imageFlagsBecomeTheRequest() throws {
        let options = try BuildOptions.parse([
            "--base", "scratch", "--layer", "app:/srv/app", "--entrypoint", #"["python3", "app.py"]"#, "--cmd", "serve --fast",
            "--env", "A=1", "--env", "B=two=2", "--label", "team=ai", "--port", "8080", "--volume", "/data", "--user", "1000:1000",
            "--workdir", "/srv/app", "--tag", "app:1", "--compression", "gzip:6", "--platform", "linux/amd64,linux/arm64",
            "--output", "oci:out:v1", "--threads", "3", "--no-cache",
        ])
        let request = try options.makeRequest()
        #expect(request.base == .scratch)
        #expect(request.layers.map(\.destination) == ["/srv/app"])
        #expect(request.settings.entrypoint == ["python3", "app.py"])
        #expect(request.settings.cmd == ["/bin/sh", "-c", "serve --fast"])
        #expect(request.settings.env.map(\.name) == ["A", "B"] && request.settings.env.last?.value == "two=2")
        #expect(request.settings.labels["team"] == "ai")
        #expect(request.settings.ports == ["8080"] && request.settings.volumes == ["/data"])
        #expect(request.settings.user == "1000:1000" && request.settings.workdir == "/srv/app")
        #expect(request.tag == "app:1")
        #expect(request.platforms.map(\.description) == ["linux/amd64", "linux/arm64"])
        #expect(request.outputs.map(\.description) == ["oci:out:v1"])
        #expect(request.threads == 3 && !request.useCache)
        try request.validate()
    }

    @Test(arguments: [
        (["--base", "scratch", "--layer", "app"], "must be SOURCE:/absolute/destination"),
        (["--base", "scratch", "--layer", "a:/a", "--entrypoint", "[python3"], "is not a JSON array of strings"),
        (["--base", "scratch", "--layer", "a:/a", "--model-image", "m:1"], "--model-image needs a model"),
        (["--base", "scratch", "--layer", "a:/a", "--threads", "0"], "--threads 0 is out of range"),
    ])
    func badFlagsAreRefusedBeforeWork(_ arguments: [String], _ message: String) throws {
        let options = try BuildOptions.parse(arguments)
        #expect { try options.makeRequest().validate() } throws: { "\($0)".contains(message) }
    }

    @Test func publishFlagsArePlannedInOrder() throws {
        let options = try BuildOptions.parse(["--base", "scratch", "--layer", "a:/a", "--model", "m.bin", "--model-image", "team/model:1"])
        let request = try options.makeRequest()
        let publish = try PublishOptions.parse(["--push", "reg.example/team/app:1", "--push-tag", "latest"])
        let destination = try #require(try publish.destination(for: request))
        #expect(destination.description == "reg.example/team/app:1")
        #expect(try PublishPlan.modelReference("team/model:1", besides: destination).description == "reg.example/team/model:1")
        // The app and its model image on one tag: refused before any work.
        let clash = try PublishOptions.parse(["--push", "reg.example/team/model:1"])
        #expect { try clash.destination(for: request) } throws: { "\($0)".contains("would both be tagged team/model:1") }
        #expect { try PublishOptions.parse(["--sign", "k.key"]).destination(for: request) } throws: { "\($0)".contains("--sign needs --push") }
        #expect { try PublishOptions.parse(["--sbom"]).destination(for: request) } throws: { "\($0)".contains("--sbom needs --push") }
    }
}
