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
        mode: "0640"
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
            layer.ignore = ["*.md"]; layer.ownership = "1000:1000"; layer.compression = "gzip:9"; layer.mode = "0640"
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
        ("layers:\n  - source: a\n    destination: /a\n    mode: u+x\n", "gantry.yaml:4", "mode 'u+x' must be octal permission bits"),
        ("layers:\n  - source: a\n    destination: /a\n    mode: \"4755\"\n", "gantry.yaml:4", "mode '4755' must be octal permission bits"),
        ("env: [A]\n", "gantry.yaml:1", "'env' must be a mapping"),
        ("layers:\n  - destination: /a\n", "gantry.yaml:2", "needs 'source'"),
        ("layers:\n  - source: a\n    destination: /a\n    allowExternalSymlinks: maybe\n", "gantry.yaml:4", "true or false"),
        ("model:\n  source: m.bin\nmodels:\n  - source: n.bin\n", "gantry.yaml:3", "use 'model' for one model or 'models' for several"),
        ("models: []\n", "gantry.yaml:1", "'models' lists no model"),
        ("models:\n  - source: a/\n  - destination: /b\n", "gantry.yaml:3", "models[2] needs 'source'"),
        ("models:\n  - source: a/\n  - source: b.bin\n    sha: x\n", "gantry.yaml:4", "unknown key 'sha'"),
        ("models:\n  - source: a/\n  - source: b.bin\n    image: team/model:1\n", "gantry.yaml:3", "only a single model can be an image"),
        ("packages:\n  exclude: [a1]\n", "gantry.yaml:2", "packages needs 'install'"),
        ("packages:\n  install: [Curl]\n", "gantry.yaml:2", "'Curl' is not a Debian package name"),
        ("packages:\n  install: [curl]\n  exclude: [curl=1]\n", "gantry.yaml:3", "'curl=1' is not a Debian package name"),
        ("packages:\n  install: [curl]\n  repositories:\n    - url: http://r\n      suite: bookworm\n", "gantry.yaml:4", "needs 'key'"),
        ("packages:\n  install: [curl]\n  repositories:\n    - url: ftp://r\n", "gantry.yaml:4", "needs 'url' (http:// or https://"),
        ("packages:\n  install: [curl]\n  pin: x\n", "gantry.yaml:3", "unknown key 'pin'"),
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

    @Test func severalModelsKeepTheirOrderAndKeys() throws {
        let text = """
        models:
          - source: s3://bucket/llm/
            include: ["*.safetensors"]
            destination: /models/llm
          - source: labels.txt
            sha256: \(String(repeating: "a", count: 64))
        """
        let recipe = try Recipe.parse(text, source: "gantry.yaml", directory: "/work")
        #expect(recipe.models.map(\.source) == ["s3://bucket/llm/", "/work/labels.txt"])
        #expect(recipe.models[0].include == ["*.safetensors"] && recipe.models[0].destination == "/models/llm")
        #expect(recipe.models[1].sha256 == "sha256:" + String(repeating: "a", count: 64))
        // One entry is `model:`, image and all.
        let one = try Recipe.parse("models:\n  - source: m.bin\n    image: team/model:1\n", source: "gantry.yaml", directory: "/work")
        #expect(one.models.count == 1 && one.models[0].image == "team/model:1")
    }

    @Test func packagesKeepTheirNamesPinsAndRepositories() throws {
        let text = """
        packages:
          install: [nginx, libgomp1, "curl=7.88.1-10+deb12u8", g++-12]
          exclude: [tzdata]
          repositories:
            - url: http://127.0.0.1:8080/debian
              suite: bookworm
              components: [main, contrib]
              key: keys/repo.asc
        """
        let recipe = try Recipe.parse(text, source: "gantry.yaml", directory: "/work")
        let packages = try #require(recipe.packages)
        #expect(packages.install == ["nginx", "libgomp1", "curl=7.88.1-10+deb12u8", "g++-12"])
        #expect(packages.exclude == ["tzdata"])
        #expect(packages.repositories == [RecipeRepository(url: "http://127.0.0.1:8080/debian", suite: "bookworm",
                                                           components: ["main", "contrib"], key: "/work/keys/repo.asc")])
    }

    @Test func layerFlagNeedsAnAbsoluteDestination() throws {
        #expect(try LayerSpec(flag: "dir/with:colon:/app").source == "dir/with:colon")
        #expect(throws: (any Error).self) { try LayerSpec(flag: "app") }
        #expect(throws: (any Error).self) { try LayerSpec(flag: "app:relative") }
    }
}
