import Foundation
import HTTP
import OCI
import ByteStreams
import ContentStore
import Registry
import Threads

/// A registry session whose connections are one scripted transport and whose
/// retry waits are recorded, not slept.
public final class ScriptedRegistry: Sendable {
    public let transport = ScriptedTransport()
    public let waits = Locked<[Double]>([])
    public let session: RegistrySession

    public static let base = "https://registry.test"

    public init(attempts: Int = 4, credentials: Credentials? = nil) {
        var retry = RetryPolicy(attempts: attempts, initialDelay: 0.01, maximumDelay: 0.01)
        let waits = self.waits
        retry.sleep = { delay in waits.withLock { $0.append(delay) } }
        let transport = self.transport
        session = RegistrySession(registry: "registry.test", credentials: credentials, options: HTTPOptions(), retry: retry,
                                  environment: [:], connect: { _ in transport })
    }

    public var trace: [String] { transport.trace }
    public var recordedWaits: [Double] { waits.value }

}

/// A blob written to a scratch file, with its descriptor.
public struct TestBlob: Sendable {
    public let bytes: [UInt8]
    public let descriptor: Descriptor
    public let path: String

    public init(_ size: Int, in scratch: ScratchDirectory, seed: UInt64 = 1) throws {
        bytes = testBytes(size, seed: seed)
        descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest(sha256: SHA256Hasher.hash(bytes)), size: Int64(size))
        path = try scratch.write("blob-\(seed)", bytes)
    }

    public var digest: String { descriptor.digest.description }
}
