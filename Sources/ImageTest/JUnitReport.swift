import ByteStreams
import SystemSupport

/// A run as JUnit XML, the format Azure Pipelines' PublishTestResults (testResultsFormat: JUnit),
/// GitHub test reporters and Jenkins read: one test suite, one test case per check
/// (the readiness probe first), a failure element with the message and the failing
/// answer, the container's last output lines as the suite's system-out.
public enum JUnitReport {
    public static func xml(_ outcome: TestOutcome, timestamp: String) -> String {
        let failures = outcome.results.filter { !$0.passed }.count
        let suite = "gantry test \(outcome.image)"
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<testsuites name=\"gantry test\" tests=\"\(outcome.results.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(time(outcome.seconds))\">",
            "  <testsuite name=\"\(escape(suite))\" tests=\"\(outcome.results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(time(outcome.seconds))\" timestamp=\"\(timestamp)\">",
        ]
        for result in outcome.results {
            let open = "    <testcase name=\"\(escape(result.name))\" classname=\"gantry.test.\(result.kind)\" time=\"\(time(result.seconds))\""
            guard let failure = result.failure else {
                lines.append(open + "/>")
                continue
            }
            lines.append(open + ">")
            lines.append("      <failure message=\"\(escape(failure))\" type=\"\(result.kind)\">\(escape((result.details).joined(separator: "\n")))</failure>")
            lines.append("    </testcase>")
        }
        lines.append("    <system-out>\(escape(outcome.containerOutput.joined(separator: "\n")))</system-out>")
        lines.append("  </testsuite>")
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func time(_ seconds: Double) -> String { cFormat("%.3f", seconds) }

    /// Text safe in XML content and attributes; characters XML 1.0 cannot hold
    /// (most control characters, from an app's output) become U+FFFD.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\n", "\t": escaped.unicodeScalars.append(scalar)
            case "\r": escaped += "&#13;"
            default:
                let value = scalar.value
                let allowed = value >= 0x20 && !(0xD800...0xDFFF).contains(value) && value != 0xFFFE && value != 0xFFFF
                escaped.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return escaped
    }
}
