import Testing
import FoundationEssentials
import Recipes
@testable import ProjectImport

/// Projects as teams have them, read into recipes that gantry's own reader accepts.
@Suite struct ProjectImporterTests {
    static func project(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.path + "/gantry-init-\(UInt32.random(in: 0...UInt32.max))"
        for (name, content) in files {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        }
        return directory
    }

    @Test func aFlaskProjectWithoutADockerfile() throws {
        let directory = try Self.project([
            "app.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.route(\"/health\")\ndef health(): return 'ok'\n",
            "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
            ".python-version": "3.11.9\n",
            "model/weights.safetensors": "x",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProjectImporter(directory: directory).run()
        let recipe = try Recipe.parse(result.draft.yaml, source: "gantry.yaml", directory: directory)
        #expect(recipe.base == "python:3.11-slim")
        #expect(recipe.python?.requirements == directory + "/requirements.txt" && recipe.python?.version == "3.11")
        #expect(recipe.settings.cmd == ["python3", "-m", "gunicorn", "--bind", "0.0.0.0:8000", "app:app"])
        #expect(recipe.models.map(\.destination) == ["/app/model/weights.safetensors"])
        #expect(recipe.layers.first?.ignore.contains("model/weights.safetensors") == true)
        #expect(recipe.test?.ready.path == "/health" && recipe.test?.port == 8000)
        #expect(result.draft.yaml.contains("# requirements list gunicorn; app.py makes the Flask app"))
    }

    @Test func locksBecomeAPinnedRequirementsFile() throws {
        let pipfile = #"{"_meta": {}, "default": {"flask": {"version": "==3.0.3", "hashes": ["sha256:aa", "sha256:bb"]}, "local": {"path": "."}}, "develop": {}}"#
        let directory = try Self.project(["Pipfile.lock": pipfile, "main.py": "from fastapi import FastAPI\napi = FastAPI()\n"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProjectImporter(directory: directory).run()
        #expect(result.files.first?.name == "requirements.gantry.txt")
        #expect(result.files.first?.content.contains("flask==3.0.3 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb") == true)
        let uv = """
        [[package]]
        name = "app"
        version = "0.1.0"
        source = { editable = "." }

        [[package]]
        name = "numpy"
        version = "2.1.0"
        source = { registry = "https://pypi.org/simple" }
        wheels = [
            { url = "https://x/numpy.whl", hash = "sha256:cc", size = 1 },
        ]
        """
        #expect(PythonLocks.tomlLock(uv) == [PythonLocks.Pin(name: "numpy", version: "2.1.0", hashes: ["sha256:cc"])])
        #expect(PythonLocks.pyprojectDependencies("[project]\nname = \"x\"\ndependencies = [\n  \"flask>=3\",\n  \"uvicorn[standard]\",\n]\n[tool.x]\ndependencies = [\"no\"]\n") == ["flask>=3", "uvicorn[standard]"])
    }

    @Test func aDockerfileProjectKeepsItsEvidence() throws {
        let directory = try Self.project([
            "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python train.py\nEXPOSE 5000\nCMD [\"flask\", \"run\", \"--host\", \"0.0.0.0\"]\n",
            "requirements.txt": "flask\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef index(): return 'hi'\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProjectImporter(directory: directory).run()
        let yaml = result.draft.yaml
        let recipe = try Recipe.parse(yaml, source: "gantry.yaml", directory: directory)
        #expect(recipe.layers.map(\.destination) == ["/app"])
        #expect(recipe.settings.cmd == ["python3", "-m", "flask", "run", "--host", "0.0.0.0"])
        #expect(recipe.python?.version == "3.12")
        #expect(recipe.test?.port == 5000)
        #expect(yaml.contains("base: python:3.12-slim  # from Dockerfile:1"))
        #expect(result.untranslated == ["Dockerfile:6: 'python train.py' runs at build time, and gantry runs nothing: do it before the build (and add its output as a layer), or when the app starts"])
        #expect(yaml.contains("#   Dockerfile:6:"))
    }

    @Test func diffsShowWhatChanges() {
        #expect(LineDiff.lines(from: "a\nb\nc\n", to: "a\nB\nc\n", context: 0) == ["- b", "+ B"])
    }
}
