import ArgumentParser
import Fetch
import ImageBuild
import Diagnostics

/// `--include` / `--exclude` for a model that is a set of files (a local directory,
/// `az://ACCOUNT/CONTAINER/PREFIX/`, `s3://BUCKET/PREFIX/`), as `model.include` and
/// `model.exclude` in gantry.yaml.
struct ModelFileOptions: ParsableArguments {
    @Option(name: .customLong("include"), help: ArgumentHelp(
        "Keep only the files of a set this pattern matches (.dockerignore syntax, relative to the set; repeatable).",
        valueName: "PATTERN"))
    var include: [String] = []

    @Option(name: .customLong("exclude"), help: ArgumentHelp(
        "Leave out the files of a set this pattern matches (repeatable).", valueName: "PATTERN"))
    var exclude: [String] = []

    /// A fetcher for `store` that keeps the selected files of a set and reports a long listing.
    func apply(to fetcher: inout ModelFetcher, source: ModelSource) throws {
        var settings = ModelSettings(source: source)
        (settings.include, settings.exclude) = (include, exclude)
        fetcher.selecting = try settings.fileSelection()
        fetcher.setProgress = { StandardError.write($0.line(for: source.description) + "\n") }
    }
}
