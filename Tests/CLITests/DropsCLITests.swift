import Foundation
import TestSupport
import Testing

/// `krctl drops` refuses bad input before it touches the kernel: usage errors exit 64, data errors 1. (Its
/// output on real traffic is checked by the kernel suite's DropsTrafficTests.)
@Suite struct DropsCLITests {
    @Test func badOptionsAreUsageErrors() throws {
        for (arguments, message) in [
            (["--count", "0"], "--count must be at least 1"),
            (["--port", "70000"], "--port must be 1 to 65535"),
            (["-f", "-o", "json"], "--follow prints as drops arrive"),
        ] {
            let r = try Krctl.run(["drops", "--manifests", Krctl.examples] + arguments)
            #expect(r.status == 64 && r.stderr.contains(message), "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        let format = try Krctl.run(["drops", "-o", "yaml"])
        #expect(format.status == 64 && format.stderr.contains("'yaml'"), "\(format.stderr)")
        let since = try Krctl.run(["drops", "--since", "soon"])
        ArgumentCLITests.expectUsageError(
            since, option: "--since", value: "soon", expected: "a Go duration above zero")
    }

    @Test func anUnknownPodIsBadInput() throws {
        let r = try Krctl.run(["drops", "--manifests", Krctl.examples, "--pod", "shop/nope"])
        #expect(r.status == 1 && r.stderr.contains("pod shop/nope not found"), "\(r.stderr)")
    }

    @Test func helpNamesTheExitStatuses() throws {
        let r = try Krctl.run(["drops", "--help"])
        #expect(r.status == 0 && r.stdout.contains("-f, --follow") && r.stdout.contains("jsonl"), "\(r.stdout)")
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("2 when the group is held by another process"), "\(r.stdout)")
    }
}
