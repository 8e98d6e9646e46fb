import Foundation
import Testing

/// krctl's arguments parse themselves: a bad value is a usage error (exit status 64) that names the option,
/// the value and what was expected, before any cluster or kernel is read.
@Suite struct ArgumentCLITests {
    static let examples = Krctl.examples

    @Test(arguments: [
        (["explain-policy", "--from", "shop/api", "--to", "shop/db", "--port", "99999"], "--port", "99999"),
        (["explain-policy", "--from", "shop/api", "--to", "shop/db", "--port", "0"], "--port", "0"),
        (["explain-policy", "--from", "shop/api", "--to", "shop/db", "--port", "80/ICMP"], "--port", "80/ICMP"),
        (["explain-policy", "--from", "shop/api", "--to", "shop/db", "--port", "/TCP"], "--port", "/TCP"),
        (["explain-policy", "--matrix", "--port", "80", "--port", "x/y/z"], "--port", "x/y/z"),
    ])
    func badPort(arguments: [String], option: String, value: String) throws {
        let r = try Krctl.run(arguments + ["-f", Self.examples])
        Self.expectUsageError(
            r, option: option, value: value, expected: "expected NUMBER[/PROTOCOL] or NAME[/PROTOCOL]")
    }

    @Test(arguments: [
        (["explain-policy", "--from", "a/b/c", "--to", "shop/db", "--port", "80"], "--from", "a/b/c"),
        (["explain-policy", "--from", "shop/api", "--to", "/db", "--port", "80"], "--to", "/db"),
        (["explain-policy", "--from", "shop/", "--to", "shop/db", "--port", "80"], "--from", "shop/"),
        (["trace", "service", "shop/db", "--from", "a/b/c", "--kernel", "never"], "--from", "a/b/c"),
    ])
    func badEndpoint(arguments: [String], option: String, value: String) throws {
        let r = try Krctl.run(arguments + ["-f", Self.examples])
        Self.expectUsageError(r, option: option, value: value, expected: "expected NAMESPACE/POD, POD or an IP address")
    }

    @Test(arguments: ["10.0.0.1", "fd00::1", "a/b/c", "shop/"])
    func badPod(value: String) throws {
        let r = try Krctl.run(["policy", "check", value, "-f", Self.examples])
        Self.expectUsageError(r, option: "<pod>", value: value, expected: "expected NAMESPACE/POD or POD")
    }

    @Test(arguments: ["a/b/c", "/db", "shop/"])
    func badService(value: String) throws {
        let r = try Krctl.run(["trace", "service", value, "-f", Self.examples, "--kernel", "never"])
        Self.expectUsageError(r, option: "<service>", value: value, expected: "expected NAMESPACE/NAME or NAME")
    }

    @Test(arguments: ["0", "65536", "", "two words"])
    func badServicePort(value: String) throws {
        let r = try Krctl.run([
            "trace", "service", "shop/db", "--port", value, "-f", Self.examples, "--kernel", "never",
        ])
        Self.expectUsageError(
            r, option: "--port", value: value, expected: "expected a service port's name, or a number")
    }

    @Test(arguments: [["bgp", "peers"], ["bgp", "routes"], ["ipvs"]], ["soon", "0s", "30", "1x"])
    func badRequestTimeout(command: [String], value: String) throws {
        let r = try Krctl.run(command + ["--state-dir", "/nonexistent", "--request-timeout", value])
        Self.expectUsageError(r, option: "--request-timeout", value: value, expected: "expected a Go duration")
    }

    /// The service port is matched by name, or by number against the port and the node port.
    @Test(arguments: ["postgres", "5432", "30432"])
    func servicePortByNameOrNumber(value: String) throws {
        let r = try Krctl.run([
            "trace", "service", "shop/db", "--port", value, "-f", Self.examples, "--kernel", "never", "--node",
            "node-a",
        ])
        #expect(r.status == 0 && r.stdout.contains("10.244.2.20:5432"), "\(r.stderr)")
    }

    /// The default of --request-timeout still shows in the help.
    @Test func helpShowsTheDefaultTimeout() throws {
        let r = try Krctl.run(["bgp", "peers", "--help"])
        #expect(r.status == 0 && r.stdout.contains("(default: 30s)"), "\(r.stdout)")
    }

    static func expectUsageError(
        _ r: Krctl.Result, option: String, value: String, expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(r.status == 64, "exit status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(
            r.stderr.contains("The value '\(value)' is invalid for '\(option)") && r.stderr.contains(expected),
            "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }
}
