import Testing
import Locking
@testable import ImageBuild

/// pip's installation report (format 1, as pip 23 writes it) read into lock entries.
@Suite struct PythonResolutionTests {
    static let report = """
    {"version": "1", "pip_version": "23.2.1", "install": [
      {"download_info": {"url": "https://files.pythonhosted.org/packages/w/werkzeug-3.1.9-py3-none-any.whl",
                         "archive_info": {"hash": "sha256=\(String(repeating: "1", count: 64))"}},
       "metadata": {"name": "Werkzeug", "version": "3.1.9"}},
      {"download_info": {"url": "https://files.pythonhosted.org/packages/f/flask-3.1.3-py3-none-any.whl",
                         "archive_info": {"hashes": {"sha256": "\(String(repeating: "2", count: 64))"}}},
       "metadata": {"name": "Flask", "version": "3.1.3", "summary": "ignored"}}
    ]}
    """

    @Test func theReportBecomesSortedLockEntries() throws {
        let locked = try PythonDependencies.distributions(inReport: Array(Self.report.utf8), requirements: "requirements.txt")
        #expect(locked.map(\.name) == ["Flask", "Werkzeug"])
        #expect(locked[1].sha256 == String(repeating: "1", count: 64) && locked[0].url.hasSuffix("flask-3.1.3-py3-none-any.whl"))
        #expect(PythonDependencies.lockedRequirements(locked)
                == "Flask==3.1.3 --hash=sha256:\(String(repeating: "2", count: 64))\nWerkzeug==3.1.9 --hash=sha256:\(String(repeating: "1", count: 64))\n")
    }

    @Test func aDistributionWithoutAHashCannotBeLocked() {
        let report = #"{"version": "1", "install": [{"download_info": {"url": "file:///src/pkg", "dir_info": {}}, "metadata": {"name": "pkg", "version": "1"}}]}"#
        #expect { try PythonDependencies.distributions(inReport: Array(report.utf8), requirements: "r.txt") } throws: {
            "\($0)".contains("pkg 1 in r.txt comes from file:///src/pkg, which has no SHA-256 to lock")
        }
    }
}
