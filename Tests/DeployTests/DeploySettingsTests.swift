import YAML
import Foundation
import Testing
@testable import Deploy

@Suite struct DeploySettingsTests {
    @Test func setAcceptsRecipeSpellingsAndFlags() throws {
        var settings = DeploySettings()
        try settings.set("resources.limits.memory", "1Gi", source: "gantry.yaml:9")
        try settings.set("autoscale.maxReplicas", "7", source: "--set")
        try settings.set("env.LOG_LEVEL", "debug", source: "--set")
        try settings.set("env.LOG_LEVEL", "info", source: "--set")  // the later one wins, once
        try settings.set("containerPort", "9000", source: "gantry.yaml:3")
        #expect(settings.memoryLimit == "1Gi")
        #expect(settings.autoscale == DeploySettings.Autoscale(minReplicas: 2, maxReplicas: 7, targetCPU: 70))
        #expect(settings.env.map { "\($0.0)=\($0.1)" } == ["LOG_LEVEL=info"])
        #expect(settings.containerPort == 9000)
        try settings.set("modelDelivery", "image-volume", source: "--set")
        try settings.set("startupSeconds", "600", source: "gantry.yaml:4")
        #expect(settings.modelDelivery == .imageVolume && settings.startupSeconds == 600)
    }

    @Test(arguments: [
        ("replicas", "two", "replicas must be a whole number"),
        ("name", "Web_App", "must be a DNS label"),
        ("serviceType", "Ingress", "LoadBalancer, ClusterIP or NodePort"),
        ("healthPath", "health", "must start with '/'"),
        ("replica", "3", "unknown deploy key 'replica'"),
        ("port", "70000", "1...65535"),
        ("modelDelivery", "volume", "auto, image-volume or baked"),
        ("startupSeconds", "1", "5...86400"),
    ])
    func rejectsBadValuesNamingTheSource(_ key: String, _ value: String, _ message: String) {
        var settings = DeploySettings()
        do {
            try settings.set(key, value, source: "gantry.yaml:12")
            Issue.record("expected an error for \(key)=\(value)")
        } catch {
            #expect("\(error)".hasPrefix("gantry.yaml:12: "), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func yamlContentTypeQuotesAnyText() throws {
        let quoted = YAMLQuoting.doubleQuoted("say \"hi\": yes # not a comment\nline2 /path")
        #expect(quoted == #""say \"hi\": yes # not a comment\nline2 /path""#)
        // and it parses back as the same string, as YAML (JSON is a subset)
        let parsed = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
        #expect(parsed == "say \"hi\": yes # not a comment\nline2 /path")
    }

    @Test func pullSecretCarriesADockerConfig() throws {
        let manifest = PullSecret.manifest(name: "regcred", namespace: "prod", registry: "myreg.azurecr.io", username: "u", password: "p")
        let line = try #require(manifest.split(separator: "\n").first { $0.contains(".dockerconfigjson:") })
        let encoded = String(line.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
        let config = try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: encoded))) as? [String: Any]
        let entry = (config?["auths"] as? [String: Any])?["myreg.azurecr.io"] as? [String: String]
        #expect(entry?["auth"] == "dTpw")
        #expect(!PullSecret.placeholder(name: "regcred", namespace: "prod", registry: "r").contains("dTpw"))
    }
}
