import Testing
import OCI
@testable import ImageTest

@Suite struct JSONExpectationTests {
    let answer: JSONValue = .object([
        "predictions": .array([.object(["label": .string("setosa"), "probabilities": .object(["setosa": .number(0.97)])])]),
        "count": .integer(1),
        "ok": .bool(true),
    ])

    @Test func aSubsetMatchesAndExtraKeysAreFine() {
        let expected: JSONValue = .object(["predictions": .array([.object(["label": .string("setosa")])])])
        #expect(JSONExpectation.mismatch(expected: expected, actual: answer) == nil)
        #expect(JSONExpectation.mismatch(expected: .object(["count": .number(1.0)]), actual: answer) == nil)
    }

    @Test func aWrongValueIsNamedByItsPath() {
        let expected: JSONValue = .object(["predictions": .array([.object(["label": .string("virginica")])])])
        #expect(JSONExpectation.mismatch(expected: expected, actual: answer) == "predictions[0].label: expected \"virginica\", got \"setosa\"")
    }

    @Test func aMissingKeyAndAWrongLengthAndAWrongTypeAreReported() {
        #expect(JSONExpectation.mismatch(expected: .object(["version": .string("1")]), actual: answer)?.hasPrefix("version: missing") == true)
        #expect(JSONExpectation.mismatch(expected: .object(["predictions": .array([])]), actual: answer) == "predictions: expected 0 items, got 1")
        #expect(JSONExpectation.mismatch(expected: .object(["ok": .string("true")]), actual: answer) == "ok: expected \"true\", got true")
        #expect(JSONExpectation.mismatch(expected: .object(["count": .integer(2)]), actual: answer) == "count: expected 2, got 1")
    }
}

@Suite struct TestVariablesTests {
    let variables = TestVariables(imageDigest: "sha256:aaa", labels: ["io.gantry.model.digest": "sha256:abc", "team": "ai"],
                                  environment: ["PORT=8080", "EMPTY="])

    @Test func namesAreFilledFromTheImage() throws {
        #expect(try variables.expand("${MODEL_SHA256}", in: "t") == "abc")
        #expect(try variables.expand("m=${MODEL_DIGEST} i=${IMAGE_DIGEST}", in: "t") == "m=sha256:abc i=sha256:aaa")
        #expect(try variables.expand("${label:team}:${env:PORT}:${env:EMPTY}.", in: "t") == "ai:8080:.")
        #expect(try variables.expand("cost $$${x}", in: "t") == "cost $${x}")
        let json = try variables.expand(.object(["sha": .array([.string("${MODEL_SHA256}")])]), in: "t")
        #expect(json == .object(["sha": .array([.string("abc")])]))
    }

    @Test func anUnknownNameIsAnErrorThatSaysWhere() {
        #expect(throws: (any Error).self) { try variables.expand("${NOPE}", in: "gantry.yaml:3") }
        let noModel = TestVariables(imageDigest: "sha256:aaa", labels: [:], environment: [])
        do {
            _ = try noModel.expand("${MODEL_SHA256}", in: "gantry.yaml:9")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("gantry.yaml:9") && "\(error)".contains("io.gantry.model.digest"))
        }
    }

    @Test func severalModelsAreNamed() throws {
        let labels = ["io.gantry.model.llm.digest": "sha256:111", "io.gantry.model.labels.txt.digest": "sha256:222"]
        let several = TestVariables(imageDigest: "sha256:aaa", labels: labels, environment: [])
        #expect(try several.expand("${MODEL_DIGEST:llm} ${MODEL_SHA256:labels.txt}", in: "t") == "sha256:111 222")
        do {
            _ = try several.expand("${MODEL_DIGEST}", in: "gantry.yaml:4")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("several models") && "\(error)".contains("labels.txt, llm"))
        }
    }
}
