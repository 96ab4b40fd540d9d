import OCI
import ByteStreams

/// SLSA v1 provenance (slsa.dev/spec/v1.0/provenance) as an in-toto v1 statement:
/// what was built (the image manifest), from what (the recipe and flags as external
/// parameters; base, model, requirements and git source as resolved dependencies,
/// each with its digest), by which builder. Sources are written redacted (no
/// credentials, no SAS query strings).
public struct ProvenanceInputs: Sendable {
    public struct Dependency: Sendable {
        public var name: String
        public var uri: String
        /// algorithm → hex (`sha256`, `gitCommit`).
        public var digest: [String: String]

        public init(name: String, uri: String, digest: [String: String]) {
            self.name = name
            self.uri = uri
            self.digest = digest
        }
    }

    /// The recipe's path and SHA-256, when a recipe was read.
    public var recipe: (path: String, sha256: String)?
    /// Flags and settings that shaped the build, as strings (already redacted).
    public var parameters: [String: String]
    public var dependencies: [Dependency]
    public var toolVersion: String

    public init(recipe: (path: String, sha256: String)?, parameters: [String: String], dependencies: [Dependency], toolVersion: String) {
        self.recipe = recipe
        self.parameters = parameters
        self.dependencies = dependencies
        self.toolVersion = toolVersion
    }
}

public enum ProvenanceStatement {
    public static let predicateType = "https://slsa.dev/provenance/v1"
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let buildType = "urn:gantry:build:v1"

    public static func statement(subjectName: String, subject: Digest, inputs: ProvenanceInputs, created: String) throws -> [UInt8] {
        var external: [String: JSONValue] = inputs.parameters.mapValues { .string($0) }
        if let recipe = inputs.recipe {
            external["recipe"] = .object(["path": .string(recipe.path), "digest": .object(["sha256": .string(recipe.sha256)])])
        }
        let dependencies: [JSONValue] = inputs.dependencies.map { dependency in
            .object(["name": .string(dependency.name), "uri": .string(dependency.uri),
                     "digest": .object(dependency.digest.mapValues { .string($0) })])
        }
        let statement: JSONValue = .object([
            "_type": .string(statementType),
            "subject": .array([.object(["name": .string(subjectName), "digest": .object(["sha256": .string(subject.encoded)])])]),
            "predicateType": .string(predicateType),
            "predicate": .object([
                "buildDefinition": .object([
                    "buildType": .string(buildType),
                    "externalParameters": .object(external),
                    "resolvedDependencies": .array(dependencies),
                ]),
                "runDetails": .object([
                    "builder": .object(["id": .string("urn:gantry:builder:\(inputs.toolVersion)"),
                                        "version": .object(["gantry": .string(inputs.toolVersion)])]),
                    "metadata": .object(["invocationId": .string("gantry-build-\(subject.encoded.prefix(16))"),
                                         "finishedOn": .string(created)]),
                ]),
            ]),
        ])
        return try CanonicalJSON.encode(statement)
    }
}
