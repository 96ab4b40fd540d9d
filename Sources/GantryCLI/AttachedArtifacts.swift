import FoundationEssentials
import OCI
import ByteStreams
import ContentStore
import Registry
import Signing
import SupplyChain
import Publishing

/// What is attached to manifests in a registry, as `gantry inspect --referrers`
/// lists it: OCI 1.1 referrers (their artifact type and digest) and cosign
/// signature tags.
enum AttachedArtifacts {
    static func lines(for subjects: [Digest], in reference: Reference, store: ContentStore, settings: RegistrySettings) throws -> [String] {
        let referrers = Referrers(store: store, settings: settings)
        var lines: [String] = []
        var seen = Set<Digest>()
        for subject in subjects where seen.insert(subject).inserted {
            let attached = try referrers.list(subject, in: reference)
            let signatures = try CosignSignatures(store: store, settings: settings).signatureCount(subject, in: reference)
            lines.append("referrers of \(subject.short): \(attached.count)\(signatures > 0 ? ", \(signatures) cosign signature\(signatures == 1 ? "" : "s")" : "")")
            for artifact in attached {
                let predicate = artifact.annotations?[Attestations.predicateAnnotation].map { " (\($0))" } ?? ""
                lines.append("  \(artifact.digest)  \(artifact.artifactType ?? artifact.mediaType)\(predicate)")
            }
        }
        return lines
    }
}
