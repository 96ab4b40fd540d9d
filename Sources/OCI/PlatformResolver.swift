import Diagnostics

/// Picks the manifest an index holds for a platform: the one rule every reader
/// (registry pulls, OCI layouts and archives, inspect, deploy) follows.
public enum PlatformResolver {
    /// The first image manifest of `index` whose platform satisfies `platform`
    /// (a missing variant on either side matches). Nested indexes and attestation
    /// manifests without a platform are skipped. `location` names the index in the error.
    public static func manifest(in index: Index, for platform: Platform, location: String) throws -> Descriptor {
        let candidates = index.manifests.filter { MediaType.isManifest($0.mediaType) }
        if let match = candidates.first(where: { $0.platform?.satisfies(platform) ?? false }) { return match }
        let offered = candidates.compactMap { $0.platform?.description }.joined(separator: ", ")
        throw Failure(.missingInput, "\(location) has no image for \(platform) (it has: \(offered.isEmpty ? "none" : offered)); choose another base or --platform")
    }

    /// The manifest to take when no platform was asked for: the first Linux image,
    /// else the first image (ports and users rarely differ between platforms).
    public static func preferredManifest(in index: Index, location: String) throws -> Descriptor {
        let candidates = index.manifests.filter { MediaType.isManifest($0.mediaType) }
        guard let chosen = candidates.first(where: { $0.platform?.os == "linux" }) ?? candidates.first else {
            throw Failure(.invalidInput, "\(location) is an index that lists no image manifests")
        }
        return chosen
    }

    /// The platforms an index offers, in its order (for `gantry inspect`).
    public static func platforms(of index: Index) -> [Platform] {
        index.manifests.filter { MediaType.isManifest($0.mediaType) }.compactMap(\.platform)
    }
}
