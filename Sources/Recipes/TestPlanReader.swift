import OCI
import YAML
import Diagnostics

/// Reads a recipe's `test:` section into a `TestPlan`, as strictly as the rest of
/// the recipe: unknown keys and wrong types are errors naming the line.
///
/// ```yaml
/// test:
///   port: 8080
///   env: {WORKERS: "1"}
///   ready: {path: /, timeout: 60}
///   checks:
///     - name: score
///       http: POST /score
///       json: {features: [5.1, 3.5, 1.4, 0.2]}
///       expect: {status: 200, json: {predictions: [{label: setosa}]}}
///     - exec: [python3, -c, "import flask"]
/// ```
extension RecipeReader {
    static let testKeys = ["env", "port", "ready", "checks"]
    static let readyKeys = ["path", "http", "body", "json", "status", "tcp", "timeout"]
    static let checkKeys = ["name", "http", "exec", "headers", "body", "json", "expect", "timeout"]
    static let httpExpectKeys = ["status", "json", "body"]
    static let execExpectKeys = ["exit", "output"]
    static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func testPlan(from node: YAMLNode) throws -> TestPlan {
        var plan = TestPlan()
        for (key, value) in try mapping(node, field: "test") {
            let name = try string(key, field: "key")
            switch name {
            case "env":
                plan.env = try mapping(value, field: "test.env").map { key, value in
                    EnvironmentVariable(name: try checked(key) { try InputRules.environmentName(try string(key, field: "env name")) },
                                        value: try string(value, field: "env value"))
                }
            case "port": plan.port = try integer(value, field: "test.port", in: 1...65535)
            case "ready":
                if case .scalar = value {
                    plan.ready.path = try path(value, field: "test.ready")
                } else {
                    plan.ready = try readyProbe(value)
                }
            case "checks":
                plan.checks = try sequence(value, field: "test.checks").enumerated().map { try check($1, number: $0 + 1) }
            default: throw unknownKey(name, at: key, known: Self.testKeys)
            }
        }
        return plan
    }

    /// `ready: {path: /, timeout: 60}`, `{http: POST /predict, json: {…}}`, `{status: any}`, `{tcp: true}`.
    func readyProbe(_ node: YAMLNode) throws -> ReadyProbe {
        var probe = ReadyProbe()
        var request: YAMLNode?
        for (key, value) in try mapping(node, field: "test.ready") {
            switch try string(key, field: "key") {
            case "path": probe.path = try path(value, field: "test.ready.path"); request = request ?? value
            case "http":
                let parsed = try httpRequest(value, field: "test.ready.http")
                probe.method = parsed.method
                probe.path = parsed.path
                request = value
            case "body": probe.body = .text(try string(value, field: "test.ready.body"))
            case "json": probe.body = .json(try json(value))
            case "status":
                guard try string(value, field: "test.ready.status") == "any" else {
                    throw error(at: value, "test.ready.status: only 'any' (any HTTP answer means ready); leave it out for 2xx/3xx")
                }
                probe.anyStatus = true
            case "tcp": probe.tcp = try bool(value, field: "test.ready.tcp")
            case "timeout": probe.timeout = try integer(value, field: "test.ready.timeout", in: 1...3600)
            case let other: throw unknownKey(other, at: key, known: Self.readyKeys)
            }
        }
        if probe.tcp, let request {
            throw error(at: request, "test.ready has both 'tcp: true' and a request; a probe is one or the other")
        }
        return probe
    }

    func check(_ node: YAMLNode, number: Int) throws -> TestCheck {
        let field = "test.checks[\(number)]"
        var fields: [String: (key: YAMLNode, value: YAMLNode)] = [:]
        for (key, value) in try mapping(node, field: field) {
            let name = try string(key, field: "key")
            guard Self.checkKeys.contains(name) else { throw unknownKey(name, at: key, known: Self.checkKeys) }
            fields[name] = (key, value)
        }
        let timeout = try fields["timeout"].map { try integer($0.value, field: "\(field).timeout", in: 1...3600) } ?? 30
        let expect = try fields["expect"].map { try mapping($0.value, field: "\(field).expect") } ?? []
        switch (fields["http"], fields["exec"]) {
        case (let http?, nil):
            var check = try httpRequest(http.value, field: "\(field).http")
            if let headers = fields["headers"] {
                check.headers = try mapping(headers.value, field: "\(field).headers").map {
                    (try string($0, field: "header name"), try string($1, field: "header value"))
                }
            }
            switch (fields["body"], fields["json"]) {
            case (let body?, nil): check.body = .text(try string(body.value, field: "\(field).body"))
            case (nil, let json?): check.body = .json(try self.json(json.value))
            case (nil, nil): break
            case (_?, _?): throw error(at: node, "\(field) has both 'body' and 'json'; send one")
            }
            for (key, value) in expect {
                switch try string(key, field: "key") {
                case "status": check.expectedStatus = try integer(value, field: "\(field).expect.status", in: 100...599)
                case "json": check.expectedJSON = try json(value)
                case "body": check.expectedText = try string(value, field: "\(field).expect.body")
                case let other: throw unknownKey(other, at: key, known: Self.httpExpectKeys)
                }
            }
            let name = try fields["name"].map { try string($0.value, field: "\(field).name") } ?? "\(check.method) \(check.path)"
            return TestCheck(name: name, kind: .http(check), timeout: timeout, location: line(node))
        case (nil, let exec?):
            for unused in ["headers", "body", "json"] where fields[unused] != nil {
                throw error(at: fields[unused]!.key, "'\(unused)' belongs to http checks, not exec")
            }
            var check = ExecCheck(command: try command(exec.value, field: "\(field).exec"))
            guard !check.command.isEmpty else { throw error(at: exec.value, "\(field).exec is an empty command") }
            for (key, value) in expect {
                switch try string(key, field: "key") {
                case "exit": check.expectedExitCode = Int32(try integer(value, field: "\(field).expect.exit", in: 0...255))
                case "output": check.expectedOutput = try string(value, field: "\(field).expect.output")
                case let other: throw unknownKey(other, at: key, known: Self.execExpectKeys)
                }
            }
            let name = try fields["name"].map { try string($0.value, field: "\(field).name") } ?? check.command.joined(separator: " ")
            return TestCheck(name: name, kind: .exec(check), timeout: timeout, location: line(node))
        case (_?, _?):
            throw error(at: node, "\(field) has both 'http' and 'exec'; a check is one or the other")
        case (nil, nil):
            throw error(at: node, "\(field) needs 'http: METHOD /path' or 'exec: [command, …]'")
        }
    }

    /// `GET /path`, `POST /score`, or just `/path` (GET).
    func httpRequest(_ node: YAMLNode, field: String) throws -> HTTPCheck {
        let words = try string(node, field: field).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch words.count {
        case 1: return HTTPCheck(method: "GET", path: try checkedPath(words[0], node: node, field: field))
        case 2:
            let method = words[0].uppercased()
            guard Self.methods.contains(method) else {
                throw error(at: node, "'\(field)': unknown method '\(words[0])'; use one of \(Self.methods.joined(separator: ", "))")
            }
            return HTTPCheck(method: method, path: try checkedPath(words[1], node: node, field: field))
        default:
            throw error(at: node, "'\(field)' must be 'METHOD /path' (e.g. 'POST /score') or '/path'")
        }
    }

    func path(_ node: YAMLNode, field: String) throws -> String {
        try checkedPath(try string(node, field: field), node: node, field: field)
    }

    func checkedPath(_ text: String, node: YAMLNode, field: String) throws -> String {
        guard text.hasPrefix("/"), !text.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) else {
            throw error(at: node, "'\(field)': '\(text)' is not a request path; start it with '/'")
        }
        return text
    }

    func integer(_ node: YAMLNode, field: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(try string(node, field: field)), range.contains(value) else {
            throw typeError(node, field: field, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A YAML value as JSON: plain scalars typed as YAML's core schema types them
    /// (`200` a number, `true` a boolean, `~` null), quoted ones always strings.
    func json(_ node: YAMLNode) throws -> JSONValue {
        switch node {
        case .mapping:
            var object: [String: JSONValue] = [:]
            for (key, value) in try mapping(node, field: "json") { object[try string(key, field: "json key")] = try json(value) }
            return .object(object)
        case .sequence(let items, _):
            return .array(try items.map(json))
        case .scalar(let scalar):
            if scalar.isNull { return .null }
            guard scalar.style == .plain, scalar.tag == nil else { return .string(scalar.text) }
            switch scalar.text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let integer = Int64(scalar.text) { return .integer(integer) }
            if scalar.text.contains(where: \.isNumber), let number = Double(scalar.text), number.isFinite { return .number(number) }
            return .string(scalar.text)
        }
    }
}
