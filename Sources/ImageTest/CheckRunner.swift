import FoundationEssentials
import Glibc
import OCI
import HTTP
import Recipes
import ByteStreams
import Diagnostics

/// Runs a plan's checks against a running test container: HTTP requests through
/// sockets opened inside its network namespace, commands through `runc exec`.
struct CheckRunner {
    let connector: NamespaceConnector
    let runc: Runc
    let containerID: String
    let port: Int
    let variables: TestVariables
    /// Where exec checks' output files go (the bundle directory).
    let scratch: String

    /// Polls the probe until it passes, the container exits, the app answers the
    /// ready request with a 4xx (it is up, and the request is wrong: said at once,
    /// not after the timeout), or the time is up.
    func waitUntilReady(_ probe: ReadyProbe, containerProcess: pid_t) -> CheckResult {
        let name = "ready: " + probe.summary
        let clock = ContinuousClock(), started = clock.now
        let deadline = started + .seconds(probe.timeout)
        var lastProblem = "nothing listened on port \(port)"
        while clock.now < deadline {
            guard Self.isRunning(containerProcess) else {
                return CheckResult(name: name, kind: "ready", seconds: Self.seconds(since: started, clock),
                                   failure: "the app exited before it answered on port \(port) (its output is below)")
            }
            do {
                if probe.tcp {
                    try connectOnce()
                    return CheckResult(name: name, kind: "ready", seconds: Self.seconds(since: started, clock))
                }
                let response = try send(try readyRequest(probe), timeout: 5)
                if probe.anyStatus || (200..<400).contains(response.status) {
                    return CheckResult(name: name, kind: "ready", seconds: Self.seconds(since: started, clock))
                }
                if (400..<500).contains(response.status) {
                    return CheckResult(name: name, kind: "ready", seconds: Self.seconds(since: started, clock),
                                       failure: "\(probe.method) \(probe.path) answered \(response.status): the app is up, and this request is not one it serves; "
                                           + "set test.ready to a route it answers (e.g. {http: POST /predict, json: …}), or {status: any} or {tcp: true}",
                                       details: ["status \(response.status)"] + Self.excerpt(response.body))
                }
                lastProblem = "it answered \(response.status)"
            } catch let failure as TransportError where failure.curlCode == 7 {  // CURLE_COULDNT_CONNECT
                lastProblem = "nothing listened on port \(port)"
            } catch let failure as ConnectionRefused {
                lastProblem = "\(failure)"
            } catch {
                lastProblem = "\(error)"
            }
            usleep(100_000)
        }
        return CheckResult(name: name, kind: "ready", seconds: Self.seconds(since: started, clock),
                           failure: "not ready after \(probe.timeout) s: \(lastProblem) (raise test.ready.timeout if the app loads slowly)")
    }

    func run(_ check: TestCheck, number: Int) -> CheckResult {
        let clock = ContinuousClock(), started = clock.now
        var result: CheckResult
        do {
            switch check.kind {
            case .http(let http): result = try runHTTP(http, check: check)
            case .exec(let exec): result = try runExec(exec, check: check, number: number)
            }
        } catch {
            result = CheckResult(name: check.name, kind: Self.kind(of: check), seconds: 0, failure: "\(error)")
        }
        result.seconds = Self.seconds(since: started, clock)
        return result
    }

    private func runHTTP(_ http: HTTPCheck, check: TestCheck) throws -> CheckResult {
        let place = "\(check.location) (\(check.name))"
        var request = HTTPRequest(method: http.method, url: url(try variables.expand(http.path, in: place)))
        for (header, value) in http.headers { request.headers.append((header, try variables.expand(value, in: place))) }
        switch http.body {
        case .none: break
        case .text(let text): request.body = .bytes(Array(try variables.expand(text, in: place).utf8))
        case .json(let json):
            request.body = .bytes(try CanonicalJSON.encode(try variables.expand(json, in: place)))
            if request.header("Content-Type") == nil { request.headers.append(("Content-Type", "application/json")) }
        }
        let response: HTTPResponse
        do {
            response = try send(request, timeout: check.timeout)
        } catch {
            return CheckResult(name: check.name, kind: "http", seconds: 0, failure: "\(http.method) \(http.path): no answer: \(error)")
        }
        let body = Self.excerpt(response.body)
        guard response.status == http.expectedStatus else {
            return CheckResult(name: check.name, kind: "http", seconds: 0,
                               failure: "\(http.method) \(http.path): expected status \(http.expectedStatus), got \(response.status)",
                               details: ["status \(response.status)"] + body)
        }
        if let expected = http.expectedJSON {
            let wanted = try variables.expand(expected, in: place)
            guard let actual = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)) else {
                return CheckResult(name: check.name, kind: "http", seconds: 0,
                                   failure: "\(http.method) \(http.path): the answer is not JSON", details: body)
            }
            if let problem = JSONExpectation.mismatch(expected: wanted, actual: actual) {
                return CheckResult(name: check.name, kind: "http", seconds: 0, failure: "\(http.method) \(http.path): \(problem)", details: body)
            }
        }
        if let text = http.expectedText {
            let wanted = try variables.expand(text, in: place)
            guard String(decoding: response.body, as: UTF8.self).contains(wanted) else {
                return CheckResult(name: check.name, kind: "http", seconds: 0,
                                   failure: "\(http.method) \(http.path): the answer does not contain '\(wanted)'", details: body)
            }
        }
        return CheckResult(name: check.name, kind: "http", seconds: 0)
    }

    private func runExec(_ exec: ExecCheck, check: TestCheck, number: Int) throws -> CheckResult {
        let place = "\(check.location) (\(check.name))"
        let command = try exec.command.map { try variables.expand($0, in: place) }
        let outputFile = "\(scratch)/exec-\(number).log"
        let result = try runc.exec(id: containerID, arguments: command, output: outputFile, timeout: check.timeout)
        let output = (try? FileReader.readSmallFile(outputFile, limit: 8 << 20)) ?? []
        let lines = Self.excerpt(output)
        if result.timedOut {
            return CheckResult(name: check.name, kind: "exec", seconds: 0, failure: "did not finish within \(check.timeout) s", details: lines)
        }
        guard result.status == exec.expectedExitCode else {
            return CheckResult(name: check.name, kind: "exec", seconds: 0,
                               failure: "exited with \(result.status), expected \(exec.expectedExitCode)", details: lines)
        }
        if let text = exec.expectedOutput {
            let wanted = try variables.expand(text, in: place)
            guard String(decoding: output, as: UTF8.self).contains(wanted) else {
                return CheckResult(name: check.name, kind: "exec", seconds: 0, failure: "its output does not contain '\(wanted)'", details: lines)
            }
        }
        return CheckResult(name: check.name, kind: "exec", seconds: 0)
    }

    // MARK: helpers

    private func readyRequest(_ probe: ReadyProbe) throws -> HTTPRequest {
        var request = HTTPRequest(method: probe.method, url: url(try variables.expand(probe.path, in: "test.ready")))
        switch probe.body {
        case .none: break
        case .text(let text): request.body = .bytes(Array(try variables.expand(text, in: "test.ready").utf8))
        case .json(let json):
            request.body = .bytes(try CanonicalJSON.encode(try variables.expand(json, in: "test.ready")))
            request.headers.append(("Content-Type", "application/json"))
        }
        return request
    }

    struct ConnectionRefused: Error, CustomStringConvertible {
        let port: Int
        let code: Int32
        var description: String { code == ECONNREFUSED ? "nothing listened on port \(port)" : "port \(port): \(String(cString: strerror(code)))" }
    }

    /// One TCP connection to the app's port inside the container, closed at once.
    private func connectOnce() throws {
        let socket = try connector.makeSocket()
        defer { Glibc.close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ConnectionRefused(port: port, code: errno) }
    }

    private func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    private func send(_ request: HTTPRequest, timeout: Int) throws -> HTTPResponse {
        var options = HTTPOptions()
        options.connectTimeout = 5
        options.requestTimeout = timeout
        let connector = self.connector
        options.makeSocket = { try connector.makeSocket() }
        return try HTTPTransport(options: options).perform(request, destination: .memory(limit: 1 << 20), progress: nil)
    }

    /// The first lines of a body or output, for a failure report.
    static func excerpt(_ bytes: [UInt8], lines: Int = 20) -> [String] {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).prefix(lines).map(String.init).filter { !$0.isEmpty }
    }

    /// False once the process is gone or a zombie (its stat's state field).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let bytes = try? FileReader.readSmallFile("/proc/\(pid)/stat", limit: 4096) else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].trimmingWhitespace().first
        return state != "Z" && state != "X"
    }

    static func seconds(since start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func kind(of check: TestCheck) -> String {
        if case .exec = check.kind { return "exec" }
        return "http"
    }
}
