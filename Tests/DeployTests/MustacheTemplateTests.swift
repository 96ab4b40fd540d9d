import YAML
import Testing
import Diagnostics
@testable import Deploy

@Suite struct MustacheTemplateTests {
    func render(_ template: String, _ context: [String: Any]) throws -> String {
        try MustacheTemplate(template).render(context)
    }

    @Test func variablesAreEscapedByContentTypeAndTripleBracesAreRaw() throws {
        let context: [String: Any] = ["name": "a \"b\" <c>", "port": 8080]
        #expect(try render("{{name}} {{{name}}} {{& name}} {{{port}}}", context) == "a &quot;b&quot; &lt;c&gt; a \"b\" <c> a \"b\" <c> 8080")
        #expect(try render("{{% CONTENT_TYPE: YAML}}\nv: {{name}}\nn: {{{port}}}\n", context) == "v: \"a \\\"b\\\" <c>\"\nn: 8080\n")
        #expect(try render("{{% CONTENT_TYPE: TEXT}}\n{{name}}", context) == "a \"b\" <c>")
        #expect(try render("[{{missing}}]", context) == "[]")
    }

    @Test func sectionsIterateListsEnterDictionariesAndTestFlags() throws {
        let context: [String: Any] = [
            "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]],
            "autoscale": ["min": 1, "max": 3], "on": true, "off": false, "empty": [Any](), "name": "app",
        ]
        #expect(try render("{{#env}}{{name}}={{value}};{{/env}}", context) == "A=1;B=2;")
        #expect(try render("{{#autoscale}}{{min}}-{{max}} {{name}}{{/autoscale}}", context) == "1-3 app")
        #expect(try render("{{autoscale.max}}", context) == "3")
        #expect(try render("{{#on}}yes{{/on}}{{#off}}no{{/off}}{{^off}}not off{{/off}}{{^empty}} none{{/empty}}", context) == "yesnot off none")
        #expect(try render("{{#missing}}x{{/missing}}{{^missing}}y{{/missing}}", context) == "y")
        #expect(try render("{{#env}}{{.}}{{/env}}", ["env": ["a", "b"]]) == "ab")
    }

    /// The spec's standalone rule: a line holding only a section tag or comment leaves no line behind.
    @Test func standaloneTagLinesDisappear() throws {
        let template = "spec:\n  {{#secret}}\n  pull: {{secret}}\n  {{/secret}}\n  {{! a comment }}\n  image: x\n"
        #expect(try render(template, ["secret": "s"]) == "spec:\n  pull: s\n  image: x\n")
        #expect(try render(template, [:]) == "spec:\n  image: x\n")
        #expect(try render("a {{#on}}b{{/on}} c\n", ["on": true]) == "a b c\n")  // not alone on its line: kept inline
    }

    @Test(arguments: [
        ("{{#a}}x", "line 1: section {{#a}} is never closed"),
        ("x{{/a}}", "line 1: {{/a}} does not close the open section"),
        ("{{#a}}{{/b}}{{/a}}", "{{/b}} does not close the open section 'a'"),
        ("\n{{> part}}", "line 2: partials"),
        ("{{=<% %>=}}", "changing delimiters"),
        ("{{name", "is never closed"),
        ("{{% CONTENT_TYPE: XML}}", "unknown CONTENT_TYPE 'XML'"),
    ])
    func malformedTemplatesAreRefused(_ template: String, _ message: String) {
        do {
            _ = try MustacheTemplate(template)
            Issue.record("expected an error for \(template)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func yamlQuotingEscapesControlCharacters() {
        #expect(YAMLQuoting.doubleQuoted("tab\there\u{1}") == #""tab\there\u0001""#)
        #expect(YAMLQuoting.doubleQuoted("é/ü") == "\"é/ü\"")
    }
}
