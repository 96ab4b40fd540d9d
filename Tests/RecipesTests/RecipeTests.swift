import Testing
@testable import Recipes

@Suite struct RecipeTests {
    static let full = """
    base: oci:base:3.12
    platform: linux/amd64
    compression: auto
    layers:
      - source: app
        destination: /app
        ignore: ["*.md"]
        ownership: "1000:1000"
        compression: gzip:9
        allowExternalSymlinks: true
    entrypoint: ["python3", "app.py"]
    cmd: serve
    env: {PORT: "8080", MODE: prod}
    workdir: /app
    user: "1000"
    ports: [8080, 9090/udp]
    labels: {team: ai}
    stopSignal: SIGINT
    tag: sample
    """

    @Test func parsesEveryField() throws {
        let recipe = try Recipe.parse(Self.full, source: "gantry.yaml", directory: "/work")
        #expect(recipe.base == "oci:base:3.12")
        #expect(recipe.layers == [{
            var layer = LayerSpec(source: "/work/app", destination: "/app")
            layer.ignore = ["*.md"]; layer.ownership = "1000:1000"; layer.compression = "gzip:9"
            layer.allowExternalSymlinks = true
            return layer
        }()])
        #expect(recipe.settings.entrypoint == ["python3", "app.py"])
        #expect(recipe.settings.cmd == ["/bin/sh", "-c", "serve"])
        #expect(recipe.settings.env == [EnvironmentVariable(name: "PORT", value: "8080"), EnvironmentVariable(name: "MODE", value: "prod")])
        #expect(recipe.settings.ports == ["8080", "9090/udp"])
        #expect(recipe.settings.labels == ["team": "ai"])
        #expect(recipe.settings.stopSignal == "SIGINT")
        #expect(recipe.tag == "sample")
    }

    @Test(arguments: [
        ("base: scratch\nlayer:\n  - source: a\n", "gantry.yaml:2", "unknown key 'layer'"),
        ("layers:\n  - source: a\n    destination: /a\n    owner: 1\n", "gantry.yaml:4", "unknown key 'owner'"),
        ("ports: 8080\n", "gantry.yaml:1", "'ports' must be a list"),
        ("env: [A]\n", "gantry.yaml:1", "'env' must be a mapping"),
        ("layers:\n  - destination: /a\n", "gantry.yaml:2", "needs 'source'"),
        ("layers:\n  - source: a\n    destination: /a\n    allowExternalSymlinks: maybe\n", "gantry.yaml:4", "true or false"),
    ])
    func errorsNameFileLineAndField(_ text: String, _ location: String, _ message: String) {
        do {
            _ = try Recipe.parse(text, source: "gantry.yaml", directory: ".")
            Issue.record("expected an error for \(text)")
        } catch {
            #expect("\(error)".hasPrefix(location + ":"), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func layerFlagNeedsAnAbsoluteDestination() throws {
        #expect(try LayerSpec(flag: "dir/with:colon:/app").source == "dir/with:colon")
        #expect(throws: (any Error).self) { try LayerSpec(flag: "app") }
        #expect(throws: (any Error).self) { try LayerSpec(flag: "app:relative") }
    }
}
