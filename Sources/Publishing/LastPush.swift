import ContentStore
import Registry

/// What `gantry push` or `gantry build --push` pushed last from a store: what
/// `gantry deploy` without a reference deploys. Kept in the user's store (not in
/// an `oci:` layout that was pushed from), as the store's `last-push` record.
public enum LastPush {
    public static let recordName = "last-push"

    public static func save(_ result: PushResult, in store: ContentStore) {
        // Best effort: losing it only means deploy needs a reference.
        try? store.saveRecord(result, named: recordName)
    }

    public static func load(from store: ContentStore) -> PushResult? {
        store.record(PushResult.self, named: recordName)
    }

    /// The model image a `build --push` with `model.image` pushed with the app: what
    /// `gantry deploy` mounts as an image volume unless told otherwise. A push
    /// without a model image clears it.
    public static let modelRecordName = "last-push-model"

    public static func saveModel(_ result: PushResult?, in store: ContentStore) {
        if let result { try? store.saveRecord(result, named: modelRecordName) } else { store.removeRecord(named: modelRecordName) }
    }

    public static func loadModel(from store: ContentStore) -> PushResult? {
        store.record(PushResult.self, named: modelRecordName)
    }
}
