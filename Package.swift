// swift-tools-version:6.0
import PackageDescription

// Linux only: gantry uses Glibc, /proc and Linux-only stat fields, so no other
// platform is declared. Each target depends on exactly what it imports
// (scripts/check-imports holds this file to that).
let package = Package(
    name: "gantry",
    products: [
        .executable(name: "gantry", targets: ["gantry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (scripts/setup installs the -dev packages).
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // libxml2's streaming reader, for blob-storage listings (libarchive links libxml2 already).
        .systemLibrary(name: "CXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),

        // C shims for what Swift cannot call directly (GNU-only functions, C varargs).
        .target(name: "CShims"),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "Diagnostics"),
        .target(name: "YAML", dependencies: ["CYAML"]),
        .target(name: "OCI", dependencies: ["Diagnostics"]),
        // gantry's one of each concurrency tool: worker pools, dedicated threads, conditions, locked values.
        .target(name: "Threads", dependencies: ["Diagnostics", "CShims"]),
        // Processes, paths and text: Subprocess, PathName, cFormat/rfc3339/ByteCount.
        .target(name: "SystemSupport", dependencies: ["Threads", "CShims"]),
        .target(name: "ByteStreams", dependencies: ["Diagnostics", "CCrypto", "CShims", "Threads"]),
        .target(name: "Layering", dependencies: ["Diagnostics", "OCI", "ByteStreams", "Threads", "SystemSupport", "CArchive", "CZlib", "CZstd", "CShims"]),
        // What an image's files say about it: the ELF machine, the C library, the OS package databases.
        .target(name: "ImageContents", dependencies: ["Diagnostics", "ByteStreams", "SystemSupport", "Layering"]),
        .target(name: "ContentStore", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport"]),
        .target(name: "HTTP", dependencies: ["Diagnostics", "ByteStreams", "Threads", "SystemSupport", "CCurl", "CCurlShims"]),
        .target(name: "Registry", dependencies: ["Diagnostics", "OCI", "ByteStreams", "Threads", "SystemSupport", "ContentStore", "HTTP"]),
        .target(name: "Fetch", dependencies: ["Diagnostics", "OCI", "ByteStreams", "Threads", "SystemSupport", "ContentStore", "HTTP", "CXML2"]),
        // Debian repositories without apt: signed indexes, apt's resolution, .debs into a layer.
        .target(name: "DebianPackages", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport", "ContentStore", "HTTP", "Layering", "CArchive"]),
        // gantry.lock: every input that can move, pinned; its text and what moved between two.
        .target(name: "Locking", dependencies: ["Diagnostics", "OCI"]),
        // gantry init: a project's Dockerfile, requirements and files read into a recipe.
        .target(name: "ProjectImport", dependencies: ["Diagnostics", "ByteStreams", "SystemSupport", "YAML"]),
        .target(name: "Deploy", dependencies: [
            "Diagnostics", "OCI", "ByteStreams", "SystemSupport", "YAML",
        ]),
        .target(name: "Signing", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport", "ContentStore", "Registry", "CCrypto"]),
        .target(name: "SupplyChain", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport", "Layering", "ImageContents", "ContentStore", "HTTP", "Registry", "Signing"]),
        .target(name: "Images", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport", "Layering", "ContentStore", "Registry"]),
        // gantry.yaml and its test: section as values, and their reader: what ImageBuild
        // builds from and ImageTest checks with, without either importing the other.
        .target(name: "Recipes", dependencies: ["Diagnostics", "OCI", "ByteStreams", "SystemSupport", "Layering", "Images", "YAML"]),
        .target(name: "ImageBuild", dependencies: [
            "Diagnostics", "OCI", "ByteStreams", "Threads", "SystemSupport", "Layering", "ImageContents", "ContentStore", "HTTP", "Registry", "Fetch", "Images", "Recipes", "SupplyChain", "DebianPackages", "Locking",
        ]),
        .target(name: "ImageTest", dependencies: [
            "Diagnostics", "OCI", "ByteStreams", "Threads", "SystemSupport", "Recipes", "Images", "Layering", "ContentStore", "HTTP", "CShims",
        ]),
        // What gantry sends to registries after a build: pushes, signatures, referrers, the layer cache.
        .target(name: "Publishing", dependencies: [
            "Diagnostics", "OCI", "ContentStore", "Images", "Registry", "Signing", "SupplyChain", "ImageBuild",
        ]),
        .target(name: "GantryCLI", dependencies: [
            "Diagnostics", "OCI", "ByteStreams", "SystemSupport", "ImageBuild", "ImageTest", "Images", "ContentStore", "Layering", "CShims", "Registry", "HTTP", "Fetch", "Deploy", "Signing", "SupplyChain", "Recipes", "Publishing", "DebianPackages", "ProjectImport", "Locking",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "gantry", dependencies: ["GantryCLI"]),

        // Unit-test support: a scripted HTTPClient and registry, small test images.
        .target(name: "TestSupport", dependencies: ["HTTP", "Registry", "OCI", "ByteStreams", "Threads", "ContentStore"], path: "Tests/TestSupport"),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .target(name: "TestTools", path: "Tests/TestTools"),
        .testTarget(name: "LayeringTests", dependencies: ["Layering", "ByteStreams", "OCI", "Diagnostics", "TestTools"]),
        .testTarget(name: "ImageContentsTests", dependencies: ["ImageContents", "Layering", "OCI", "TestTools"]),
        .testTarget(name: "ContentStoreTests", dependencies: ["ContentStore", "ByteStreams", "SystemSupport", "OCI", "Diagnostics"]),
        .testTarget(name: "RecipesTests", dependencies: ["Recipes", "OCI", "Images"]),
        .testTarget(name: "ImageBuildTests", dependencies: ["ImageBuild", "ImageContents", "Recipes", "Images", "ContentStore", "OCI", "Layering", "Diagnostics", "Registry", "TestSupport", "Threads", "ByteStreams", "TestTools", "Fetch", "Locking"]),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "OCI"]),
        .testTarget(name: "SupplyChainTests", dependencies: ["SupplyChain", "ImageContents", "OCI", "Layering"], exclude: ["golden"]),
        .testTarget(name: "ImageTestTests", dependencies: ["ImageTest", "Recipes", "OCI"]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "Threads"]),
        .testTarget(name: "ByteStreamsTests", dependencies: ["ByteStreams"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "ByteStreams"], exclude: ["echo_server.py"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "HTTP", "TestSupport", "OCI", "ByteStreams", "Threads", "ContentStore", "Diagnostics"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "HTTP", "TestSupport", "OCI", "ByteStreams", "ContentStore", "Diagnostics", "Threads"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "TestSupport", "Registry", "OCI", "ByteStreams", "ContentStore", "Diagnostics"]),
        .testTarget(name: "DebianPackagesTests", dependencies: ["DebianPackages", "Layering", "ByteStreams"]),
        .testTarget(name: "LockingTests", dependencies: ["Locking"]),
        .testTarget(name: "ProjectImportTests", dependencies: ["ProjectImport", "Recipes"]),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", "Diagnostics", "YAML"]),
        .testTarget(name: "GantryCLITests", dependencies: ["GantryCLI", "OCI", "Images", "ImageBuild", "Recipes", "Publishing"]),
    ],
    swiftLanguageModes: [.v6]
)
