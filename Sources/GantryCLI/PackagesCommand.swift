import FoundationEssentials
import ArgumentParser
import OCI
import ImageBuild
import DebianPackages
import Diagnostics
import SystemSupport

/// `gantry packages`: what the recipe's `packages:` would install on the base,
/// like `apt-get install --simulate`: the repositories' indexes fetched and
/// verified, the set resolved, nothing downloaded or built. For review, and for
/// comparing with apt.
struct PackagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packages",
        abstract: "Show the OS packages that 'packages:' in gantry.yaml would install, without building.",
        discussion: "Prints one line per package and platform: name, version, architecture, size. Same flags as 'gantry build' for the base and platforms.")

    @OptionGroup var image: BuildOptions

    @OptionGroup var store: StoreOptions

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Print the packages as JSON: per platform, each package's name, version, architecture, URL, size and SHA-256.")
    var json = false

    func run() throws {
        var request = try image.makeRequest()
        request.registry = try registry.settings()
        let plans = try Builder(store: try store.open()).planPackages(request)
        if json {
            struct Entry: Encodable { var platform: String; var packages: [ResolvedPackage] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(plans.map { Entry(platform: $0.platform.description, packages: $0.packages) })
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for plan in plans {
            let total = plan.packages.reduce(0) { $0 + $1.size }
            StandardError.write("packages for \(plan.platform): \(plan.packages.count) to install, \(ByteCount.format(total)) to download\n")
            for package in plan.packages {
                print("\(package.name) \(package.version) \(package.architecture)\(plans.count > 1 ? " \(plan.platform)" : "")")
            }
        }
    }
}
