import Testing
import Layering
import ImageContents
@testable import ImageBuild
@testable import Recipes

@Suite struct PythonPlatformTagsTests {
    @Test func glibcGivesEveryManylinuxTagItCanRunNewestFirst() {
        let tags = PythonPlatformTags.tags(for: CLibrary(family: .glibc, major: 2, minor: 36), architecture: "arm64")
        #expect(tags.first == "manylinux_2_36_aarch64")
        #expect(tags.contains("manylinux_2_17_aarch64") && tags.contains("manylinux2014_aarch64"))
        #expect(tags.contains("manylinux_2_5_aarch64") && !tags.contains("manylinux_2_37_aarch64"))
        // The 2010 and 1 aliases exist for x86 only.
        #expect(!tags.contains("manylinux2010_aarch64"))
        let amd = PythonPlatformTags.tags(for: CLibrary(family: .glibc, major: 2, minor: 28), architecture: "amd64")
        #expect(amd.first == "manylinux_2_28_x86_64" && amd.contains("manylinux2010_x86_64") && amd.last == "manylinux1_x86_64")
    }

    @Test func muslGivesMusllinuxTags() {
        #expect(PythonPlatformTags.tags(for: CLibrary(family: .musl, major: 1, minor: 2), architecture: "amd64")
                == ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"])
    }

    @Test func pipsSourceOnlyLineNamesTheRequirement() {
        let errors = """
        ERROR: Could not find a version that satisfies the requirement docopt==0.6.2 (from versions: none)
        ERROR: No matching distribution found for docopt==0.6.2
        """
        #expect(HostWheels.sourceOnlyRequirement(in: errors) == "docopt==0.6.2")
        #expect(HostWheels.sourceOnlyRequirement(in: "ERROR: ResolutionImpossible") == nil)
    }

    @Test func platformsAreListedOnceEachAndNotTogetherWithPlatform() throws {
        let recipe = try Recipe.parse("platforms: [linux/amd64, linux/arm64]\n", source: "gantry.yaml", directory: "/w")
        #expect(recipe.platforms == ["linux/amd64", "linux/arm64"])
        #expect(throws: (any Error).self) { try Recipe.parse("platforms: [linux/amd64, linux/amd64]\n", source: "g.yaml", directory: "/w") }
        #expect(throws: (any Error).self) { try Recipe.parse("platforms: []\n", source: "g.yaml", directory: "/w") }
        #expect(throws: (any Error).self) {
            try Recipe.parse("platform: linux/amd64\nplatforms: [linux/arm64]\n", source: "g.yaml", directory: "/w")
        }
    }
}
