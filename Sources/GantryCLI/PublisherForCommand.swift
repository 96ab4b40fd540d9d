import ContentStore
import Publishing
import Diagnostics

extension Publisher {
    /// The command's publisher: its registry flags (one session per registry for
    /// the whole command), progress on standard error unless `quiet`.
    static func forCommand(store: ContentStore, registry: RegistryOptions, quiet: Bool) throws -> Publisher {
        Publisher(store: store, settings: try registry.settings(), observer: quiet ? nil : ProgressPrinter(),
                  say: quiet ? { _ in } : { StandardError.write($0 + "\n") })
    }
}
