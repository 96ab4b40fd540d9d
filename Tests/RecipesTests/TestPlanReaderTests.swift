import Testing
import OCI
@testable import Recipes

@Suite struct TestPlanReaderTests {
    static let recipe = """
    test:
      port: 9000
      env: {WORKERS: "1"}
      ready: {path: /healthz, timeout: 120}
      checks:
        - name: score
          http: POST /score
          headers: {X-Trace: "on"}
          json: {features: [5.1, 3, true, null, "7"]}
          expect: {status: 200, json: {label: setosa, n: 2}, body: setosa}
          timeout: 5
        - http: /version
        - exec: [python3, -c, "print(1)"]
          expect: {exit: 3, output: "1"}
        - exec: echo hi
    """

    @Test func everyFieldIsRead() throws {
        let plan = try #require(try Recipe.parse(Self.recipe, source: "gantry.yaml", directory: "/w").test)
        #expect(plan.port == 9000 && plan.env == [EnvironmentVariable(name: "WORKERS", value: "1")])
        #expect(plan.ready == ReadyProbe(path: "/healthz", timeout: 120))
        #expect(plan.checks.count == 4)
        guard case .http(let score) = plan.checks[0].kind else { Issue.record("not http"); return }
        #expect(plan.checks[0].name == "score" && plan.checks[0].timeout == 5 && plan.checks[0].location == "gantry.yaml:6")
        #expect(score.method == "POST" && score.path == "/score" && score.headers.map { "\($0.0)=\($0.1)" } == ["X-Trace=on"])
        #expect(score.body == .json(.object(["features": .array([.number(5.1), .integer(3), .bool(true), .null, .string("7")])])))
        #expect(score.expectedStatus == 200 && score.expectedText == "setosa")
        #expect(score.expectedJSON == .object(["label": .string("setosa"), "n": .integer(2)]))
        guard case .http(let version) = plan.checks[1].kind else { Issue.record("not http"); return }
        #expect(version.method == "GET" && version.path == "/version" && plan.checks[1].name == "GET /version" && version.expectedStatus == 200)
        guard case .exec(let exec) = plan.checks[2].kind, case .exec(let shell) = plan.checks[3].kind else { Issue.record("not exec"); return }
        #expect(exec == {
            var check = ExecCheck(command: ["python3", "-c", "print(1)"])
            check.expectedExitCode = 3
            check.expectedOutput = "1"
            return check
        }())
        #expect(shell.command == ["/bin/sh", "-c", "echo hi"])
    }

    @Test func readyProbesOfferWhatKubernetesProbesOffer() throws {
        func ready(_ yaml: String) throws -> ReadyProbe {
            try #require(try Recipe.parse("test:\n  ready: \(yaml)\n", source: "gantry.yaml", directory: "/w").test).ready
        }
        #expect(try ready("/healthz") == ReadyProbe(path: "/healthz"))
        let tcp = try ready("{tcp: true, timeout: 10}")
        #expect(tcp.tcp && tcp.timeout == 10 && tcp.summary == "port accepts connections")
        let post = try ready("{http: POST /predict, json: {features: [1, 2]}}")
        #expect(post.method == "POST" && post.path == "/predict" && post.body == .json(.object(["features": .array([.integer(1), .integer(2)])])))
        #expect(post.summary == "POST /predict answers" && !post.anyStatus)
        #expect(try ready("{path: /, status: any}").anyStatus)
    }

    @Test(arguments: [
        ("test: {ready: {tcp: true, path: /}}", "test.ready has both 'tcp: true' and a request"),
        ("test: {ready: {status: 404}}", "test.ready.status: only 'any'"),
        ("test: {ready: {http: FETCH /}}", "unknown method 'FETCH'"),
        ("test: {checks: [{http: GET /, exec: [ls]}]}", "gantry.yaml:1: test.checks[1] has both 'http' and 'exec'"),
        ("test: {checks: [{name: x}]}", "test.checks[1] needs 'http: METHOD /path'"),
        ("test: {checks: [{http: FETCH /}]}", "unknown method 'FETCH'"),
        ("test: {checks: [{http: score}]}", "'score' is not a request path"),
        ("test: {checks: [{http: /, expect: {code: 200}}]}", "unknown key 'code'"),
        ("test: {checks: [{exec: [ls], json: {a: 1}}]}", "'json' belongs to http checks"),
        ("test: {port: 70000}", "'test.port' must be a whole number from 1 to 65535"),
        ("test: {ready: {path: /, timeout: 0}}", "test.ready.timeout"),
        ("test: {checks: [{http: /, body: x, json: {}}]}", "has both 'body' and 'json'"),
        ("test: {retries: 3}", "unknown key 'retries'"),
    ])
    func mistakesAreErrorsNamingTheLine(_ text: String, _ message: String) {
        do {
            _ = try Recipe.parse(text, source: "gantry.yaml", directory: "/w")
            Issue.record("no error for \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect("\(error)".hasPrefix("gantry.yaml:"))
        }
    }
}
