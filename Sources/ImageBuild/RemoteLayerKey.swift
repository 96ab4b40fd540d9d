import OCI
import ByteStreams
import Layering

/// Keys of the registry layer cache (`--cache-repo`): what a layer's inputs are,
/// computed on a fresh build agent before anything is built or downloaded. Unlike
/// the store's own `LayerCache` keys (file stamps: device, inode, mtime, which a
/// fresh checkout changes), these name contents: a file's SHA-256, the text of
/// requirements.txt, a model source's version. Hex SHA-256, usable in a tag.
enum RemoteLayerKey {
    static let version = "gantry-remote-layer-v1"

    /// A tree of files: paths, kinds, modes, owners, link targets and each file's
    /// bytes; and how many entries the walk found.
    static func files(_ fileSet: FileSet, settings: LayerSettings, reportSkipped: Bool = false) throws -> (key: String, entries: Int) {
        var count = 0
        let hasher = SHA256Hasher()
        hasher.update(Array("\(version)\nfiles\n\(settings.compression)\n\(settings.mtime)\n".utf8))
        try fileSet.forEachEntry(reportSkipped: reportSkipped) { entry in
            count += 1
            var line = "\(entry.path)\u{0}\(entry.mode) \(entry.uid) \(entry.gid) "
            switch entry.kind {
            case .directory: line += "d"
            case .regular(let source): line += "f " + (try FileReader.digest(of: source).sha256.hex)
            case .symlink(let target): line += "l " + target
            case .hardlink(let first): line += "h " + first
            }
            hasher.update(Array((line + "\u{0}").utf8))
        }
        return (hasher.finish().hex, count)
    }

    /// The Python dependencies layer: what pip is asked to install, for which platform and Python.
    static func python(requirements: [UInt8], platformTag: String, pythonVersion: String, target: String,
                       settings: LayerSettings) -> String {
        let text = "\(version)\npython\n\(platformTag)\n\(pythonVersion)\n\(target)\n\(settings.compression)\n\(settings.mtime)\n"
        return SHA256Hasher.hash(Array(text.utf8) + requirements).hex
    }

    /// The model layer: the model's digest when known (a pin, a local file), else its
    /// source (redacted) and the version the source reports (ETag or Last-Modified, size).
    static func model(identity: String, destination: String, settings: LayerSettings) -> String {
        let text = "\(version)\nmodel\n\(identity)\n\(destination)\n\(settings.compression)\n\(settings.mtime)\n"
        return SHA256Hasher.hash(Array(text.utf8)).hex
    }

    /// The OS packages layer: the chosen packages (name, version, SHA-256) and the base's symlinks.
    static func osPackages(_ layerKey: String, settings: LayerSettings) -> String {
        let text = "\(version)\nos-packages\n\(layerKey)\n\(settings.compression)\n\(settings.mtime)\n"
        return SHA256Hasher.hash(Array(text.utf8)).hex
    }
}
