import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics
import SystemSupport

/// Runs the user's kubectl: it already speaks every cluster's auth plugins
/// (AKS uses kubelogin). gantry renders and pins; kubectl applies; gantry waits.
public struct Kubectl: Sendable {
    public let executable: String
    public let kubeconfig: String?
    public let context: String?

    /// Finds kubectl (`--kubectl`, else on PATH); a missing one is a clear error.
    public init(path: String?, kubeconfig: String?, context: String?) throws {
        self.kubeconfig = kubeconfig
        self.context = context
        if let path {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw Failure(.unavailable, "kubectl not found at \(path); check --kubectl")
            }
            executable = path
        } else {
            guard let found = Subprocess.locate("kubectl") else {
                throw Failure(.unavailable, "kubectl not found on PATH; install it (see kubernetes.io/docs/tasks/tools) or pass --kubectl PATH")
            }
            executable = found
        }
        // Checked whichever kubectl runs: kubectl's own message for a missing file is less clear.
        if let kubeconfig, !FileManager.default.fileExists(atPath: kubeconfig) {
            throw Failure(.missingInput, "kubeconfig \(kubeconfig) does not exist; check --kubeconfig")
        }
    }

    var globalArguments: [String] {
        (kubeconfig.map { ["--kubeconfig", $0] } ?? []) + (context.map { ["--context", $0] } ?? [])
    }

    /// `kubectl apply --server-side --field-manager=gantry -f -`, manifests on stdin
    /// (never on the command line or disk: a pull secret may be among them).
    public func apply(_ manifests: String) throws -> String {
        let result = try run(["apply", "--server-side", "--field-manager=gantry", "--force-conflicts", "-f", "-"], input: manifests)
        guard result.status == 0 else {
            throw Failure(result.unreachable ? .unavailable : .invalidInput,
                          "kubectl apply failed: \(result.lastErrorLine)\(result.unreachable ? "; check --kubeconfig/--context and that the cluster is up" : "")")
        }
        return result.output
    }

    /// `kubectl rollout status`, its progress lines passed on as they come.
    public func waitForRollout(deployment: String, namespace: String, timeoutSeconds: Int, progress: @escaping @Sendable (String) -> Void) throws {
        let result = try run(["rollout", "status", "deployment/\(deployment)", "--namespace", namespace, "--timeout", "\(timeoutSeconds)s"],
                             input: nil, lines: progress)
        guard result.status == 0 else {
            if result.errors.contains("timed out") || result.errors.contains("exceeded its progress deadline") {
                throw Failure(.timeout, "deployment/\(deployment) in \(namespace) did not roll out within \(timeoutSeconds)s; the failing pods' events are above")
            }
            throw Failure(result.unreachable ? .unavailable : .invalidInput, "kubectl rollout status failed: \(result.lastErrorLine)")
        }
    }

    /// The API server's Kubernetes version (`kubectl version -o json`), major and minor.
    public func serverVersion() throws -> (major: Int, minor: Int) {
        let result = try run(["version", "-o", "json"], input: nil)
        guard result.status == 0 else {
            throw Failure(result.unreachable ? .unavailable : .invalidInput, "kubectl version failed: \(result.lastErrorLine)")
        }
        guard case .object(let root) = try CanonicalJSON.decode(JSONValue.self, from: Array(result.output.utf8), source: "kubectl version -o json"),
              case .object(let server) = root["serverVersion"] ?? .null,
              case .string(let majorText) = server["major"] ?? .null, case .string(let minorText) = server["minor"] ?? .null,
              let major = Int(majorText.filter(\.isNumber)), let minor = Int(minorText.filter(\.isNumber)) else {
            throw Failure(.invalidInput, "kubectl version -o json did not name the server's version")
        }
        return (major, minor)
    }

    /// The deployment's pods and their recent events, for a failed rollout (best effort).
    public func diagnostics(deployment: String, namespace: String) -> String {
        let selector = "app.kubernetes.io/name=\(deployment)"
        let podColumns = "NAME:.metadata.name,PHASE:.status.phase,WAITING:.status.containerStatuses[*].state.waiting.reason,RESTARTS:.status.containerStatuses[*].restartCount"
        let eventColumns = "LAST:.lastTimestamp,TYPE:.type,REASON:.reason,POD:.involvedObject.name,MESSAGE:.message"
        let pods = (try? run(["get", "pods", "--namespace", namespace, "--selector", selector, "-o", "custom-columns=\(podColumns)"], input: nil))?.output ?? ""
        let events = (try? run(["get", "events", "--namespace", namespace, "--field-selector", "involvedObject.kind=Pod",
                                "--sort-by=.lastTimestamp", "-o", "custom-columns=\(eventColumns)"], input: nil))?.output ?? ""
        return "pods:\n\(pods)\nevents:\n\(events)"
    }

    func run(_ arguments: [String], input: String?, lines: (@Sendable (String) -> Void)? = nil) throws -> Subprocess.Result {
        do {
            return try Subprocess(executable, globalArguments + arguments, input: input.map { Array($0.utf8) }).run(lines: lines)
        } catch let failure as Subprocess.LaunchFailure {
            throw Failure(.unavailable, "\(failure); check --kubectl", cause: failure)
        }
    }
}

extension Subprocess.Result {
    /// kubectl's words for a cluster it cannot reach.
    var unreachable: Bool {
        ["Unable to connect to the server", "connection refused", "no such host", "i/o timeout", "dial tcp"]
            .contains { errors.contains($0) }
    }
}
