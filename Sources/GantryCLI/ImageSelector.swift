import FoundationEssentials
import Glibc
import OCI
import ImageBuild
import Images
import ContentStore
import Registry
import Diagnostics

/// Finds the image a command means: `oci:DIR[:TAG]`, a name in the store, or the last build.
enum ImageSelector {
    static func resolve(_ text: String?, store: ContentStore) throws -> (ContentStore, Descriptor) {
        guard let text else {
            guard let last = try store.index.find(Builder.lastBuildTag) else {
                throw Failure(.missingInput, "the store \(store.root) has no build yet; run 'gantry build' first or pass --image oci:DIR[:TAG]")
            }
            return (store, last)
        }
        if text.hasPrefix("oci:") {
            guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: text, role: "--image") else {
                throw Failure(.usage, "--image '\(text)' must be oci:DIR[:TAG]")
            }
            guard FileManager.default.fileExists(atPath: directory + "/index.json") else {
                throw Failure(.missingInput, "--image \(text): \(directory) is not an OCI image layout (no index.json)")
            }
            let layout = try ContentStore(readingLayout: directory, stateIn: store)
            let manifests = try layout.index.read().manifests
            return (layout, try LayoutSource.byTag(manifests, tag: tag, location: "--image \(text)"))
        }
        guard let named = try store.index.find(text) else {
            throw Failure(.missingInput, "no image named '\(text)' in the store \(store.root); use a --tag given to 'gantry build', or oci:DIR[:TAG]")
        }
        return (store, named)
    }
}
