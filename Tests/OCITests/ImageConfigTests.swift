import Foundation
import Testing
@testable import OCI

@Suite struct ImageConfigTests {
    /// A Docker-built config with fields gantry does not model.
    static let dockerConfig = """
    {"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","docker_version":"24.0.7",
     "config":{"Env":["PATH=/usr/bin"],"Cmd":["python3"],"ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},
       "Labels":{"a":"b"},"StopSignal":"SIGTERM","Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},
       "OnBuild":null,"ArgsEscaped":true,"Shell":["/bin/sh","-c"]},
     "container_config":{"Hostname":"abc","Cmd":["/bin/sh"]},
     "rootfs":{"type":"layers","diff_ids":["sha256:\(String(repeating: "1", count: 64))"]},
     "history":[{"created":"2024-01-02T03:04:05Z","created_by":"/bin/sh -c #(nop) ADD file","empty_layer":false,"comment":"x"}],
     "os.version":"10.0","variant":"v8"}
    """

    @Test func roundTripKeepsEveryField() throws {
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Array(Self.dockerConfig.utf8), source: "test")
        let encoded = try CanonicalJSON.encode(config)
        let original = try JSONSerialization.jsonObject(with: Data(Self.dockerConfig.utf8)) as! NSDictionary
        let again = try JSONSerialization.jsonObject(with: Data(encoded)) as! NSDictionary
        #expect(again == original)
        #expect(config.extra["docker_version"] == .string("24.0.7"))
        #expect(config.config?.extra["Healthcheck"] != nil)
        #expect(config.osVersion == "10.0")
    }

    @Test func canonicalJSONSortsKeysAndKeepsSlashes() throws {
        let bytes = try CanonicalJSON.encode(["b": "x/y", "a": "1"])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"a":"1","b":"x/y"}"#)
    }

    @Test func decodeErrorNamesTheSourceAndField() {
        do {
            _ = try CanonicalJSON.decode(ImageConfig.self, from: Array(#"{"os":"linux"}"#.utf8), source: "base config")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("base config"))
            #expect("\(error)".contains("architecture"))
        }
    }
}
