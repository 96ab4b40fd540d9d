import Testing
@testable import YAML

@Suite struct YAMLParserTests {
    func pairs(_ node: YAMLNode?) -> [YAMLPair] {
        guard case .mapping(let pairs, _)? = node else { Issue.record("not a mapping: \(String(describing: node))"); return [] }
        return pairs
    }

    func scalar(_ node: YAMLNode) -> YAMLScalar? {
        guard case .scalar(let scalar) = node else { return nil }
        return scalar
    }

    @Test func mappingsKeepOrderMarksAndStyles() throws {
        let text = "base: scratch\nports: [8080, \"9090\"]\nenv:\n  MODE: 'prod'\nscript: |\n  echo hi\n"
        let root = pairs(try YAMLParser.parse(text))
        #expect(root.compactMap { scalar($0.key)?.text } == ["base", "ports", "env", "script"])
        #expect(root[0].key.mark == YAMLMark(line: 1, column: 1))
        #expect(root[2].value.mark.line == 4)
        guard case .sequence(let ports, _) = root[1].value else { Issue.record("ports is not a list"); return }
        #expect(ports.compactMap { scalar($0)?.style } == [.plain, .doubleQuoted])
        #expect(scalar(pairs(root[2].value)[0].value)?.style == .singleQuoted)
        #expect(scalar(root[3].value)?.text == "echo hi\n")
        #expect(scalar(root[3].value)?.style == .literal)
    }

    @Test(arguments: [("a:", true), ("a: ~", true), ("a: null", true), ("a: NULL", true), ("a: 'null'", false),
                      ("a: !!str null", false), ("a: !!null x", true), ("a: nil", false), ("a: \"\"", false)])
    func nullIsPlainOrTagged(_ text: String, _ isNull: Bool) throws {
        let value = pairs(try YAMLParser.parse(text))[0].value
        #expect(scalar(value)?.isNull == isNull, "\(text)")
    }

    @Test func duplicateKeysAreKeptForTheReaderToReport() throws {
        let root = pairs(try YAMLParser.parse("a: 1\na: 2\n"))
        #expect(root.compactMap { scalar($0.value)?.text } == ["1", "2"])
    }

    @Test func aliasesRepeatTheAnchoredNode() throws {
        let root = pairs(try YAMLParser.parse("base: &b {x: 1}\ncopy: *b\n"))
        #expect(scalar(pairs(root[1].value)[0].value)?.text == "1")
    }

    @Test func exponentialAliasesAreRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(throws: YAMLError.self) { try YAMLParser.parse(text) }
    }

    @Test func noDocumentIsNil() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n") == nil)
    }

    @Test(arguments: [
        ("a: 1\n---\nb: 2\n", "line 2, column 1: a second YAML document"),
        ("a: [1, 2\n", "line 2, column 1: did not find expected ',' or ']' while parsing a flow sequence that starts at line 1, column 4"),
        ("a: 1\n b: 2\n", "line 2, column 3: mapping values are not allowed in this context"),
        ("a: *missing\n", "line 1, column 4: alias *missing names no anchor"),
        ("a: \"\\q\"\n", "found unknown escape character"),
    ])
    func errorsArePlaced(_ text: String, _ expected: String) {
        do {
            _ = try YAMLParser.parse(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }
}

extension YAMLNode: Equatable {
    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool { "\(lhs)" == "\(rhs)" }
}

/// Hostile shapes (issue 22): deep nesting is refused where it opens, and the size
/// limit names its real cause.
@Suite struct YAMLLimitTests {
    @Test func deepNestingIsRefusedWithItsPlace() {
        let text = "labels: " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "\n"
        do {
            _ = try YAMLParser.parse(text)
            Issue.record("a 50,000-deep document was accepted")
        } catch {
            #expect(error.description.contains("nest more than \(YAMLParser.maximumDepth) levels"), "\(error)")
            #expect(error.description.hasPrefix("line 1, column "), "\(error)")
        }
        #expect((try? YAMLParser.parse("a: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60))) != nil)
    }

    @Test func aLargePlainDocumentIsNotBlamedOnAliases() {
        let text = "items:\n" + String(repeating: "- x\n", count: YAMLParser.maximumNodes + 10)
        do {
            _ = try YAMLParser.parse(text)
            Issue.record("too large a document was accepted")
        } catch {
            #expect(error.description.contains("holds more than"), "\(error)")
            #expect(!error.description.contains("alias"), "\(error)")
        }
    }
}
