import Testing
import OCI
@testable import GantryCLI

@Suite struct ImageLineTests {
    @Test(arguments: [
        ("    image: reg.io/app:1", "reg.io/app:1", "    image: X"),
        ("  - image: \"reg.io/app:1\"  # pinned later", "reg.io/app:1", "  - image: \"X\"  # pinned later"),
        ("image: 'python:3.12-slim'", "python:3.12-slim", "image: 'X'"),
    ])
    func findsAndReplacesTheReference(_ line: String, _ reference: String, _ replaced: String) throws {
        let match = try #require(ImageLine(line))
        #expect(match.reference == reference)
        #expect(match.replacing(with: "X") == replaced)
    }

    @Test(arguments: ["    imagePullPolicy: Always", "# image: commented", "    name: image", "    image:"])
    func ignoresOtherLines(_ line: String) {
        #expect(ImageLine(line) == nil)
    }

    @Test func defaultDeploymentNameIsADNSLabel() throws {
        let reference = try Reference(parsing: "myreg.azurecr.io/team/flask_app.v2")
        #expect(DeployCommand.defaultName(for: reference) == "flask-app-v2")
    }
}
