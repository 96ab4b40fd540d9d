import FoundationEssentials
import OCI
import ContentStore
import ImageBuild
import Images
import Registry
import Signing
import SupplyChain
import Diagnostics

/// `--sbom-format`: which SBOM format `--sbom` writes.
public enum SBOMFormat: String, CaseIterable, Sendable {
    case spdx, cyclonedx

    public var mediaType: String { self == .spdx ? SPDXWriter.mediaType : CycloneDXWriter.mediaType }
    public var label: String { self == .spdx ? "SPDX 2.3" : "CycloneDX 1.6" }

    public func document(_ inventory: SoftwareInventory) throws -> [UInt8] {
        self == .spdx ? try SPDXWriter.document(inventory) : try CycloneDXWriter.document(inventory)
    }
}

/// A build's SBOM and provenance for each of its image manifests, as OCI 1.1
/// artifacts (see `Referrers`): attached in the registry after a push, and written
/// into `oci:` layout outputs as referrers. The provenance is a DSSE envelope,
/// signed when a key is given.
public enum Attestations {
    public static let provenanceArtifactType = "application/vnd.in-toto+json"
    public static let predicateAnnotation = "in-toto.io/predicate-type"

    /// One artifact made for one image manifest.
    public struct Attachment: Sendable {
        public var subject: Descriptor
        public var artifact: Descriptor
        /// The artifact manifest's config and blob (for copying into a layout).
        public var blobs: [Descriptor]
        /// What the build prints about it, without where it went.
        public var line: String
    }

    static func modelsPhrase(_ count: Int) -> String {
        switch count {
        case 0: return ""
        case 1: return ", the model"
        default: return ", \(count) models"
        }
    }

    /// The documents for each image of `result`, stored; `repository` is where the
    /// images go (nil: local outputs only).
    public static func make(_ result: BuildResult, request: BuildRequest, repository: String?, store: ContentStore,
                            sbom: SBOMFormat?, provenance: Bool, key: SigningKey?, recipePath: String?,
                            toolVersion: String) throws -> [Attachment] {
        guard sbom != nil || provenance else { return [] }
        let referrers = Referrers(store: store, settings: request.registry)
        let inventories = try InventoryCollector(store: store, registry: request.registry)
            .inventories(of: result, repository: repository, toolVersion: toolVersion)
        let inputs = ProvenanceInputsCollector.inputs(of: result, request: request, recipePath: recipePath, toolVersion: toolVersion)
        var attachments: [Attachment] = []
        for (image, inventory) in zip(result.images, inventories) {
            let subject = image.manifestDescriptor
            let created = [AnnotationKey.created: inventory.created]
            if let sbom {
                let blob = try store.put(try sbom.document(inventory), mediaType: sbom.mediaType)
                let (artifact, blobs) = try referrers.artifactManifest(blob: blob, artifactType: sbom.mediaType, subject: subject,
                                                                       annotations: created)
                let line = "sbom   \(inventory.platform) \(artifact.digest.short) \(sbom.label): \(inventory.osPackages.count) OS and \(inventory.pythonPackages.count) Python packages\(Self.modelsPhrase(inventory.models.count))"
                attachments.append(Attachment(subject: subject, artifact: artifact, blobs: blobs, line: line))
            }
            if provenance {
                let statement = try ProvenanceStatement.statement(subjectName: inventory.imageName, subject: subject.digest, inputs: inputs,
                                                                  created: inventory.created)
                let envelope = try DSSEEnvelope.envelope(payloadType: DSSEEnvelope.inTotoPayloadType, payload: statement, key: key)
                let blob = try store.put(envelope, mediaType: DSSEEnvelope.mediaType)
                let annotations = created.merging([predicateAnnotation: ProvenanceStatement.predicateType]) { $1 }
                let (artifact, blobs) = try referrers.artifactManifest(blob: blob, artifactType: provenanceArtifactType, subject: subject,
                                                                       annotations: annotations)
                let line = "provenance \(inventory.platform) \(artifact.digest.short) SLSA v1\(key == nil ? ", unsigned" : ", signed")"
                attachments.append(Attachment(subject: subject, artifact: artifact, blobs: blobs, line: line))
            }
        }
        return attachments
    }

    /// Pushes each artifact next to its image and lists it as a referrer.
    static func attach(_ attachments: [Attachment], to destination: Reference, store: ContentStore, settings: RegistrySettings,
                       say: (String) -> Void) throws {
        let referrers = Referrers(store: store, settings: settings)
        for attachment in attachments {
            let listing = try referrers.attach(attachment.artifact, subject: attachment.subject.digest, in: destination)
            say("\(attachment.line) (\(listing.rawValue))")
        }
    }

    /// Writes each artifact into the `oci:` layouts among `outputs`.
    public static func write(_ attachments: [Attachment], to outputs: [ImageLocation], store: ContentStore, say: (String) -> Void) throws {
        for case .ociLayout(let directory, let tag) in outputs {
            let sink = LayoutSink(directory: directory, tag: tag)
            for attachment in attachments {
                try sink.writeReferrer(attachment.artifact, blobs: attachment.blobs, from: store)
                say("\(attachment.line) (in \(sink.description))")
            }
        }
    }
}
