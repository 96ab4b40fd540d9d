import FoundationEssentials
import ArgumentParser
import OCI
import ImageBuild
import Images
import ContentStore
import Signing
import Recipes
import Publishing
import Diagnostics

extension SBOMFormat: ExpressibleByArgument {}

/// The flags that say where a build goes and what goes with it: the registry,
/// more tags, signatures, SBOM and provenance, the files CI steps read.
struct PublishOptions: ParsableArguments {
    @Option(help: "After building, push the image to this registry reference.")
    var push: String?

    @Option(name: .customLong("push-tag"), help: "With --push: also tag the manifest with this tag. Repeatable.")
    var pushTags: [String] = []

    @Option(help: "With --push: sign the pushed image (and each platform's manifest) with this private key, as 'gantry sign' does.")
    var sign: String?

    @Flag(help: "With --push or --output oci:DIR: attach an SBOM (base OS packages, Python packages, the model, every layer) to each image manifest as an OCI 1.1 referrer.")
    var sbom = false

    @Option(help: "SBOM format: spdx (SPDX 2.3 JSON, default) or cyclonedx (CycloneDX 1.6 JSON).")
    var sbomFormat: SBOMFormat = .spdx

    @Flag(help: "With --push or --output oci:DIR: attach SLSA v1 provenance (an in-toto statement in a DSSE envelope, signed with --sign's key when given).")
    var provenance = false

    @Option(name: .customLong("digest-ref-file"), help: "With --push: write repository@digest to this file (for deploy steps).")
    var digestReferenceFile: String?

    @Option(name: .customLong("model-ref-file"), help: "With --push and a model image: write its repository@digest to this file.")
    var modelReferenceFile: String?

    /// `--push`'s reference, the flags checked against it and the build before any
    /// work: a bad destination, key or combination should not cost a build.
    func destination(for request: BuildRequest) throws -> Reference? {
        let destination = try push.map(Reference.init(parsing:))
        if sign != nil && destination == nil { throw Failure(.usage, "--sign needs --push (signatures are stored in the registry)") }
        for tag in pushTags { _ = try InputRules.tag(tag, what: "--push-tag") }
        if let destination, let text = request.model?.image {
            // One tag names one image: the app pushed after the model would silently replace it.
            let model = try PublishPlan.modelReference(text, besides: destination)
            let appTags = [destination.tag ?? "latest"] + pushTags
            if model.registry == destination.registry, model.repository == destination.repository, let tag = model.tag, appTags.contains(tag) {
                throw Failure(.usage, "the model image \(model) and the app image (--push \(destination)\(pushTags.isEmpty ? "" : ", --push-tag")) would both be tagged \(model.repository):\(tag); give the model image its own repository or tag (e.g. \(model.repository)-model:\(tag))")
            }
        }
        let layoutOutputs = request.outputs.filter { if case .ociLayout = $0 { return true } else { return false } }
        if (sbom || provenance) && destination == nil && layoutOutputs.isEmpty {
            throw Failure(.usage, "--\(sbom ? "sbom" : "provenance") needs --push or an --output oci:DIR (it is attached to the image as an OCI referrer)")
        }
        return destination
    }

    /// The signing key, read (and decrypted) before the build.
    func signingKey() throws -> SigningKey? {
        try sign.map { try SigningKey(path: $0, environment: ProcessInfo.processInfo.environment) }
    }

    /// What `--push` sends after the build, in order.
    func plan(_ result: BuildResult, request: BuildRequest, to destination: Reference, key: SigningKey?,
              attachments: [Attestations.Attachment], store: ContentStore) throws -> PublishPlan {
        var plan = PublishPlan(app: result.root, destination: destination)
        plan.tags = pushTags
        if let modelImage = result.modelImage, let text = request.model?.image {
            plan.modelImage = .init(root: modelImage.root,
                                    destination: try PublishPlan.modelReference(text, besides: destination))
        }
        plan.signingKey = key
        plan.attachments = attachments
        if let repository = request.cacheRepository {
            plan.layerCache = RegistryLayerCache(repository: repository, settings: request.registry, store: store)
            plan.cacheEntries = result.cacheEntries
        }
        return plan
    }
}
