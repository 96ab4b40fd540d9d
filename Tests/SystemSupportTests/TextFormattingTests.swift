import Testing

@testable import SystemSupport
import Threads

/// The helpers that stand in for Foundation's string formatting (gantry links FoundationEssentials only).
@Suite struct TextFormattingTests {
    @Test func cFormatFormatsNumbersLikePrintf() {
        #expect(cFormat("%.1f", 1.25) == "1.2")  // round-half-even, as printf does
        #expect(cFormat("built in %.2fs", 0.5) == "built in 0.50s")
        #expect(cFormat("\\x%02x", 0xAB) == "\\xab")
        let long = cFormat("%0100d", 7)
        #expect(long.count == 100 && long.hasSuffix("07"))     // past the 64-byte first attempt
    }

    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00Z"), (1_700_000_000, "2023-11-14T22:13:20Z"),
                      (951_782_400, "2000-02-29T00:00:00Z"), (-1, "1969-12-31T23:59:59Z")])
    func rfc3339IsUTCToTheSecond(_ seconds: Int64, _ expected: String) {
        #expect(rfc3339(secondsSince1970: seconds) == expected)
    }

    @Test func trimmingAndPadding() {
        #expect("  a b\t".trimmingWhitespace() == "a b")
        #expect(" x\n".trimmingWhitespace() == "x\n")
        #expect("\n x \r\n".trimmingWhitespaceAndNewlines() == "x")
        #expect("   ".trimmingWhitespace() == "")
        #expect("--my-app--".trimming(while: { $0 == "-" }) == "my-app")
        #expect("ab".padded(to: 4) == "ab  ")
        #expect("abcdef".padded(to: 4) == "abcd")
    }

    @Test func isDirectoryFollowsSymlinksAndSaysNilForNothing() throws {
        #expect(PathName.isDirectory("/") == true)
        #expect(PathName.isDirectory("/proc/self/exe") == false)
        #expect(PathName.isDirectory("/nonexistent/gantry") == nil)
    }

    @Test func dedicatedThreadsRunAndConditionsWake() throws {
        let done = Pending<Int>()
        try DedicatedThread.start(name: "a-name-longer-than-fifteen-bytes") { done.fulfil(42) }
        #expect(done.wait() == 42)
    }
}
