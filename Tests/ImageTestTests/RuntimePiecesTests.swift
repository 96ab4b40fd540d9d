import Foundation
import Testing
import OCI
import Recipes
@testable import ImageTest

@Suite struct ImageUserTests {
    let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\napp:x:1000:1001:App:/home/app:/bin/sh\n"
    let group = "root:x:0:\nstaff:x:50:\n"

    @Test func usersResolveAsRuntimesResolveThem() throws {
        #expect(try ImageUser.resolve(nil, passwd: passwd, group: group) == ImageUser(uid: 0, gid: 0, home: "/root"))
        #expect(try ImageUser.resolve("app", passwd: passwd, group: group) == ImageUser(uid: 1000, gid: 1001, home: "/home/app"))
        #expect(try ImageUser.resolve("1000", passwd: passwd, group: group) == ImageUser(uid: 1000, gid: 1001, home: "/home/app"))
        #expect(try ImageUser.resolve("1000:1000", passwd: nil, group: nil) == ImageUser(uid: 1000, gid: 1000, home: nil))
        #expect(try ImageUser.resolve("app:staff", passwd: passwd, group: group) == ImageUser(uid: 1000, gid: 50, home: "/home/app"))
        #expect(try ImageUser.resolve("4242", passwd: passwd, group: group) == ImageUser(uid: 4242, gid: 0, home: nil))
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: (any Error).self) { try ImageUser.resolve("nobody", passwd: passwd, group: group) }
        #expect(throws: (any Error).self) { try ImageUser.resolve("app:wheel", passwd: passwd, group: group) }
    }
}

@Suite struct RuntimeConfigTests {
    let process = RuntimeProcess(args: ["python3", "app.py"], env: ["PATH=/bin"], cwd: "/app", user: ImageUser(uid: 1000, gid: 1000))

    @Test func rootGetsFreshNamespacesIncludingTheNetwork() throws {
        let document = RuntimeConfig.document(process: process, uidMappings: nil, gidMappings: nil)
        guard case .object(let root) = document, case .object(let linux)? = root["linux"],
              case .array(let namespaces)? = linux["namespaces"] else { Issue.record("no linux.namespaces"); return }
        #expect(namespaces.contains(.object(["type": .string("network")])))
        #expect(!namespaces.contains(.object(["type": .string("user")])))
        guard case .object(let processObject)? = root["process"] else { Issue.record("no process"); return }
        #expect(processObject["cwd"] == .string("/app") && processObject["terminal"] == .bool(false))
        #expect(processObject["user"] == .object(["uid": .integer(1000), "gid": .integer(1000)]))
    }

    @Test func rootlessAddsAUserNamespaceAndBindsSys() throws {
        let mapping = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        let document = RuntimeConfig.document(process: process, uidMappings: mapping, gidMappings: mapping)
        guard case .object(let root) = document, case .object(let linux)? = root["linux"],
              case .array(let mounts)? = root["mounts"] else { Issue.record("bad document"); return }
        #expect(linux["uidMappings"] == .array([.object(["containerID": .integer(0), "hostID": .integer(1000), "size": .integer(1)])]))
        let sys = mounts.first { if case .object(let m) = $0 { return m["destination"] == .string("/sys") }; return false }
        #expect(sys.map { if case .object(let m) = $0 { return m["type"] == .string("none") }; return false } == true)
    }

    @Test func environmentMergesByNameAndDefaultsPathAndHome() {
        let environment = ImageTester.environment(image: ["PATH=/opt/bin", "PORT=8080", "A=1"],
                                                  overrides: [EnvironmentVariable(name: "PORT", value: "9000")],
                                                  user: ImageUser(uid: 1000, gid: 1000, home: "/home/app"))
        #expect(environment == ["PATH=/opt/bin", "PORT=9000", "A=1", "HOME=/home/app", "HOSTNAME=gantry-test"])
        #expect(ImageTester.environment(image: [], overrides: [], user: ImageUser(uid: 0, gid: 0)).first?.hasPrefix("PATH=/usr/local/sbin") == true)
    }

    @Test func theFirstExposedTCPPortIsTheDefault() throws {
        #expect(try ImageTester.firstTCPPort(["9090/udp": .object([:]), "8080/tcp": .object([:]), "8443": .object([:])], image: "x") == 8080)
        #expect(try ImageTester.firstTCPPort(nil, image: "x") == nil)
    }
}

@Suite struct JUnitReportTests {
    @Test func failuresAndOutputAreEscaped() {
        let outcome = TestOutcome(image: "app<1>", results: [
            CheckResult(name: "ready", kind: "ready", seconds: 1.5),
            CheckResult(name: "score \"x\"", kind: "http", seconds: 0.25, failure: "label: expected <a> & b", details: ["{\"a\": 1}"]),
        ], containerOutput: ["Traceback\u{1}"], keptBundle: nil, seconds: 2)
        let xml = JUnitReport.xml(outcome, timestamp: "2026-01-01T00:00:00Z")
        #expect(xml.contains("tests=\"2\" failures=\"1\""))
        #expect(xml.contains("<testcase name=\"score &quot;x&quot;\" classname=\"gantry.test.http\" time=\"0.250\">"))
        #expect(xml.contains("message=\"label: expected &lt;a&gt; &amp; b\""))
        #expect(xml.contains("Traceback\u{FFFD}") && !xml.contains("\u{1}"))
    }
}

/// The namespace helper against this process's own network namespace: a socket
/// it makes connects to a listener opened here.
@Suite struct NamespaceConnectorTests {
    @Test func socketsMadeByTheHelperReachAListenerInItsNamespace() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(listener, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }

        let connector = try NamespaceConnector(containerProcess: getpid())
        let made = try connector.makeSocket()
        defer { close(made) }
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(made, $0, length) } }
        #expect(connected == 0)
        connector.close()
        #expect(throws: (any Error).self) { try connector.makeSocket() }
    }

    @Test func aProcessThatDoesNotExistIsAClearError() {
        #expect(throws: (any Error).self) { try NamespaceConnector(containerProcess: 999_999_999) }
    }
}

@Suite struct ContainerOutputTests {
    /// gunicorn's shape with two workers: each worker's import error (the app's
    /// own), then the arbiter's chained HaltServer traceback, long enough to push
    /// the first out of the last lines.
    static func gunicornOutput(frames: Int = 40) -> [String] {
        let worker = { (pid: Int) in
            ["[2026-12-05 06:00:00 +0000] [\(pid)] [INFO] Booting worker with pid: \(pid)",
             "[2026-12-05 06:00:01 +0000] [\(pid)] [ERROR] Exception in worker process",
             "Traceback (most recent call last):",
             "  File \"/opt/gantry/python/gunicorn/arbiter.py\", line 609, in spawn_worker",
             "    worker.init_process()",
             "  File \"/app/app.py\", line 9, in <module>",
             "    raise RuntimeError(\"MODEL_PATH /models/iris has no model.pkl\")",
             "RuntimeError: MODEL_PATH /models/iris has no model.pkl",
             "[2026-12-05 06:00:01 +0000] [\(pid)] [INFO] Worker exiting (pid: \(pid))"]
        }
        let arbiter = ["Traceback (most recent call last):"] + (1...frames).map { "  frame \($0)" }
            + ["gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>", "", "During handling of the above exception, another exception occurred:", "",
               "Traceback (most recent call last):", "  File \"/usr/lib/python3.11/runpy.py\", line 198", "SystemExit: 3"]
        return worker(7) + worker(8) + arbiter
    }

    @Test func theFirstTracebackInFullAndEveryLaterExceptionOnce() {
        let lines = Self.gunicornOutput()
        let excerpt = ContainerOutput.excerpt(lines, tail: 30)
        #expect(Array(excerpt[0..<2]) == Array(lines[0..<2]))
        #expect(Array(excerpt[2...7]) == Array(lines[2...7]))
        #expect(excerpt.filter { $0 == "RuntimeError: MODEL_PATH /models/iris has no model.pkl" }.count == 1)
        #expect(excerpt.contains("[… a traceback of 6 lines, the same as above: RuntimeError: MODEL_PATH /models/iris has no model.pkl]"))
        #expect(excerpt.last == "[… a traceback of 48 lines: gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3> → SystemExit: 3]")
        #expect(excerpt.count <= 120)
    }

    @Test func chainedTracebacksAreOneCause() {
        let lines = ["Traceback (most recent call last):", "  File \"app.py\", line 3", "KeyError: 'MODEL_PATH'", "",
                     "During handling of the above exception, another exception occurred:", "",
                     "Traceback (most recent call last):", "  File \"app.py\", line 5", "RuntimeError: set MODEL_PATH"]
        let found = ContainerOutput.tracebacks(in: lines)
        #expect(found == [.init(start: 0, end: 8, exceptions: ["KeyError: 'MODEL_PATH'", "RuntimeError: set MODEL_PATH"])])
    }

    @Test func shortOutputAndOutputWithoutTracebacksAreTheLastLines() {
        let plain = (1...50).map { "line \($0)" }
        #expect(ContainerOutput.excerpt(plain, tail: 30) == Array(plain.suffix(30)))
        let short = ["starting", "Traceback (most recent call last):", "ValueError: x"]
        #expect(ContainerOutput.excerpt(short, tail: 30) == short)
    }

    @Test func aVeryLongOutputStaysWithinTheLimit() {
        let lines = Self.gunicornOutput(frames: 2000) + (1...500).map { "log line \($0)" }
        let excerpt = ContainerOutput.excerpt(lines, tail: 30, limit: 120)
        #expect(excerpt.count <= 120)
        #expect(excerpt.contains("RuntimeError: MODEL_PATH /models/iris has no model.pkl"))
        #expect(excerpt.last == "log line 500")
        // The HaltServer traceback is out of the end shown: its exceptions are listed once.
        #expect(excerpt.contains("  gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>"))
        let traceback = (["Traceback (most recent call last):"] + (1...500).map { "  line \($0)" } + ["ValueError: deep"])
        let long = ContainerOutput.excerpt(traceback + (1...40).map { "after \($0)" }, tail: 30, limit: 120)
        #expect(long.count <= 120 && long.first == "Traceback (most recent call last):" && long.contains("ValueError: deep"))
    }
}
