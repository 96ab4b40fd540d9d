import OCI
import Fetch

/// `model:` in gantry.yaml: a pretrained model fetched at build time into a layer of its own.
public struct ModelSettings: Sendable, Equatable {
    public var source: ModelSource
    /// A `sha256:` pin: a different file is an error and is not used.
    public var sha256: Digest?
    /// Path in the image; a trailing `/` means "into this directory, with the source's file name".
    public var destination: String = "/models/"
    /// For the SBOM (`model.license`).
    public var license: String?

    public init(source: ModelSource) { self.source = source }

    /// `sha256:<hex>` or bare hex.
    public static func parsePin(_ text: String) throws -> Digest {
        try InputRules.modelPin(text)
    }

    public var imagePath: String {
        destination.hasSuffix("/") ? destination + source.fileName : destination
    }
}

/// Labels recording which model an image carries.
public enum ModelLabel {
    public static let digest = "io.gantry.model.digest"
    public static let source = "io.gantry.model.source"
}
