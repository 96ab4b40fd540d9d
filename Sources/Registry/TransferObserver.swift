import OCI

/// Progress events of a push or pull, one blob at a time; called from worker threads.
public protocol TransferObserver: AnyObject, Sendable {
    func started(_ blob: Descriptor, label: String)
    func advanced(_ blob: Descriptor, bytes: Int64)
    func finished(_ blob: Descriptor, outcome: TransferOutcome)
}

public enum TransferOutcome: Sendable, Equatable {
    /// The registry already had it (HEAD), or the store did.
    case present
    /// Cross-repository mount: no bytes sent.
    case mounted(from: String)
    case uploaded(requests: Int)
    case downloaded
}
