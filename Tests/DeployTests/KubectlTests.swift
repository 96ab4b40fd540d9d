import Testing
import Diagnostics
@testable import Deploy

@Suite struct KubectlTests {
    /// The kubeconfig check used to be skipped when --kubectl named the program.
    @Test func missingKubeconfigIsReportedWhateverKubectlRuns() throws {
        for path in ["/bin/true", nil] as [String?] {
            guard path != nil || (try? Kubectl(path: nil, kubeconfig: nil, context: nil)) != nil else { continue }
            #expect {
                _ = try Kubectl(path: path, kubeconfig: "/nonexistent/kubeconfig", context: nil)
            } throws: { error in
                (error as? Failure)?.kind == .missingInput && "\(error)".contains("kubeconfig /nonexistent/kubeconfig does not exist")
            }
        }
    }
}
