import FoundationEssentials
import ArgumentParser
import OCI
import ContentStore
import ImageBuild
import Signing
import SupplyChain
import Diagnostics

/// `--sbom-format`: which SBOM format `--sbom` writes.
enum SBOMFormat: String, ExpressibleByArgument, CaseIterable {
    case spdx, cyclonedx

    var mediaType: String { self == .spdx ? SPDXWriter.mediaType : CycloneDXWriter.mediaType }
    var label: String { self == .spdx ? "SPDX 2.3" : "CycloneDX 1.6" }

    func document(_ inventory: SoftwareInventory) throws -> [UInt8] {
        self == .spdx ? try SPDXWriter.document(inventory) : try CycloneDXWriter.document(inventory)
    }
}

/// Attaches a pushed build's SBOM and provenance to each of its image manifests
/// as OCI 1.1 referrers (see `Referrers`); the provenance is a DSSE envelope,
/// signed when a key is given.
enum AttestationPublisher {
    static let provenanceArtifactType = "application/vnd.in-toto+json"
    static let predicateAnnotation = "in-toto.io/predicate-type"

    static func publish(_ result: BuildResult, request: BuildRequest, destination: Reference, store: ContentStore,
                        sbom: SBOMFormat?, provenance: Bool, key: SigningKey?, recipePath: String?, quiet: Bool) throws {
        guard sbom != nil || provenance else { return }
        let referrers = Referrers(store: store, settings: request.registry)
        let inventories = try InventoryCollector(store: store, registry: request.registry)
            .inventories(of: result, model: request.model, repository: destination.name, toolVersion: VersionText.version)
        let inputs = ProvenanceInputsCollector.inputs(of: result, request: request, recipePath: recipePath, toolVersion: VersionText.version)
        for (image, inventory) in zip(result.images, inventories) {
            let subject = image.manifestDescriptor
            let created = [AnnotationKey.created: inventory.created]
            if let sbom {
                let blob = try store.put(try sbom.document(inventory), mediaType: sbom.mediaType)
                let artifact = try referrers.artifactManifest(blob: blob, artifactType: sbom.mediaType, subject: subject, annotations: created)
                let listing = try referrers.attach(artifact, subject: subject.digest, in: destination)
                if !quiet {
                    StandardError.write("sbom   \(inventory.platform) \(artifact.digest.short) \(sbom.label): \(inventory.osPackages.count) OS and \(inventory.pythonPackages.count) Python packages\(inventory.model == nil ? "" : ", the model") (\(listing.rawValue))\n")
                }
            }
            if provenance {
                let statement = try ProvenanceStatement.statement(subjectName: destination.name, subject: subject.digest, inputs: inputs,
                                                                  created: inventory.created)
                let envelope = try DSSEEnvelope.envelope(payloadType: DSSEEnvelope.inTotoPayloadType, payload: statement, key: key)
                let blob = try store.put(envelope, mediaType: DSSEEnvelope.mediaType)
                let annotations = created.merging([predicateAnnotation: ProvenanceStatement.predicateType]) { $1 }
                let artifact = try referrers.artifactManifest(blob: blob, artifactType: provenanceArtifactType, subject: subject,
                                                              annotations: annotations)
                let listing = try referrers.attach(artifact, subject: subject.digest, in: destination)
                if !quiet {
                    StandardError.write("provenance \(inventory.platform) \(artifact.digest.short) SLSA v1\(key == nil ? ", unsigned" : ", signed") (\(listing.rawValue))\n")
                }
            }
        }
    }
}
