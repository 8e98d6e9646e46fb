import Foundation
import TestSupport
import Testing

@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// Hostile or careless input is bounded and named: alias bombs, duplicate keys, huge watch events,
/// kind typos, unknown fields, objects defined twice, control characters on the terminal.
@Suite struct InputLimitTests {
    @Test func aliasBombIsRefusedNotExpanded() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(throws: YAMLLimitError.self) {
            try JSONValue.parseYAMLDocuments(Fixtures.billionLaughs)
        }
        #expect("\(error)".contains("billion laughs"), "\(error)")
        // Expanded, it is 387 million strings; refused, it costs a few thousand.
        #expect(clock.now - start < .seconds(5))
    }

    @Test func modestAliasesStillWork() throws {
        let docs = try JSONValue.parseYAMLDocuments(
            """
            base: &labels {app: web, tier: front}
            copy: *labels
            """)
        #expect(docs.first?["copy"]?["tier"] == "front")
    }

    /// YAML 1.1's base-60 numbers are strings, as kubectl reads them; one too large for 64 bits once trapped in
    /// Yams (scripts/fuzz found it; its input is in Fuzz/regressions/yaml).
    @Test func baseSixtyNumbersAreStringsAndNeverTrap() throws {
        let value = try #require(
            try JSONValue.parseYAMLDocuments("a: 1:30\nb: 8044444444444444444:0\nc: 1:30.5\nd: 0x1F\ne: 12").first)
        #expect(value["a"] == .string("1:30") && value["b"] == .string("8044444444444444444:0"))
        #expect(value["c"] == .string("1:30.5") && value["d"] == .int(31) && value["e"] == .int(12))
        // The agent reads this annotation's YAML: a bad value is an error naming the field, never a crash.
        #expect(throws: RouterConfigError.self) {
            try RouterPlanner.annotatedPeers(
                "- remoteip: 10.0.0.1\n  remoteasn: 8044444444444444444:0", node: "n1", defaultPort: 179)
        }
    }

    @Test func duplicateKeysAreErrors() throws {
        let json = try #require(throws: JSONParser.Failure.self) {
            try JSONValue.parseJSON(Data(#"{"kind": "Pod", "kind": "NetworkPolicy"}"#.utf8))
        }
        #expect(json.description.contains("duplicate key \"kind\""))
        // Yams refuses them itself; either way the document is an error naming the key.
        let yaml = try #require(throws: (any Error).self) {
            try JSONValue.parseYAMLDocuments("metadata:\n  name: a\n  name: b\n")
        }
        #expect("\(yaml)".contains("name"), "\(yaml)")
    }

    @Test func lineFramerSplitsLinesAcrossChunks() throws {
        var framer = LineFramer(maxLine: 100)
        var lines: [String] = []
        for chunk in ["{\"a\":", "1}\n{\"b\"", ":2}\n\n{\"c\":3}", "\n"] {
            _ = try Array(chunk.utf8).withUnsafeBytes { raw in
                try framer.feed(raw) {
                    lines.append(String(decoding: $0, as: UTF8.self))
                    return true
                }
            }
        }
        #expect(lines == ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"])
        #expect(framer.pending == 0)
    }

    @Test func lineFramerRefusesAnOverlongLine() throws {
        var framer = LineFramer(maxLine: 1000)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 600)
        _ = try chunk.withUnsafeBytes { raw in try framer.feed(raw) { _ in true } }
        #expect(throws: LineFramer.TooLong.self) {
            _ = try chunk.withUnsafeBytes { raw in try framer.feed(raw) { _ in true } }
        }
    }

    /// A 20 MB event in 16 KiB chunks: linear, so well under a second of scanning (it was minutes).
    @Test func lineFramerIsLinearInTheEventSize() throws {
        var framer = LineFramer(maxLine: 64 << 20)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 16 << 10)
        var got = 0
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<1280 {
            _ = try chunk.withUnsafeBytes { raw in
                try framer.feed(raw) {
                    got += $0.count
                    return true
                }
            }
        }
        _ = try Array("\n".utf8).withUnsafeBytes { raw in
            try framer.feed(raw) {
                got += $0.count
                return true
            }
        }
        #expect(got == 1280 * (16 << 10))
        #expect(clock.now - start < .seconds(10))
    }

    @Test func kindTyposAreErrorsAndOtherKindsAreCounted() {
        var reader = ObjectReader(checksUnknownFields: true)
        reader.read(
            .object(["kind": "Networkpolicy", "metadata": .object(["name": "deny", "namespace": "shop"])]),
            source: "p.yaml")
        reader.read(.object(["kind": "NetworkPolicies", "metadata": .object(["name": "x"])]), source: "p.yaml")
        reader.read(.object(["kind": "Deployment", "metadata": .object(["name": "web"])]), source: "d.yaml")
        #expect(reader.errors.count == 2)
        #expect(
            reader.errors.first?.description == """
                p.yaml: Networkpolicy shop/deny: kind: unknown kind "Networkpolicy" (did you mean "NetworkPolicy"?)
                """)
        #expect(reader.skippedKinds == ["Deployment": 1])
    }

    @Test func unknownFieldsAreNamed() throws {
        var reader = ObjectReader(checksUnknownFields: true)
        let docs = try JSONValue.parseYAMLDocuments(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: db, namespace: shop, labelz: {a: b}}
            spec:
              podSelecter: {matchLabels: {app: db}}
              podSelector: {}
              ingres: []
              ingress:
              - from: [{podSelector: {matchLabel: {app: api}}}]
                ports: [{port: 5432, protcol: TCP}]
            """)
        reader.read(docs[0], source: "db.yaml")
        #expect(reader.errors.isEmpty)
        #expect(
            reader.warnings.map(\.field.path) == [
                "metadata.labelz", "spec.ingres", "spec.ingress[0].from[0].podSelector.matchLabel",
                "spec.ingress[0].ports[0].protcol", "spec.podSelecter",
            ])
        #expect(reader.warnings.first?.description == "db.yaml: NetworkPolicy shop/db: metadata.labelz: unknown field")
    }

    private func folder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    @Test func duplicatesAndUnknownFieldsWarnOrFailWithStrict() throws {
        let pod = { (ip: String) in
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
                + "spec: {nodeName: n}\nstatus: {podIP: \(ip)}\n"
        }
        let dir = try folder([
            "1.yaml": pod("10.0.0.1"), "2.yaml": pod("10.0.0.2"), "3.yaml": "kind: ConfigMap\nmetadata: {name: c}\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let warnings = Warnings()
        let snapshot = try ManifestSource(paths: [dir], warn: warnings.add).snapshot()
        #expect(snapshot.pods["a/p"]?.ips.map(\.description) == ["10.0.0.2"], "the later definition is used")
        #expect(
            warnings.all.contains { $0.contains("2.yaml: Pod a/p: also defined in \(dir)/1.yaml") }, "\(warnings.all)")
        #expect(warnings.all.contains { $0.contains("ConfigMap (1)") }, "\(warnings.all)")
        let strict = try #require(throws: ManifestLoadError.self) {
            try ManifestSource(paths: [dir], strict: true).snapshot()
        }
        #expect(strict.errors.count == 2, "\(strict)")
    }

    /// A manifest file over 64 MiB is refused by its size, before a byte of it is read (here a sparse file).
    @Test func aFileOver64MiBIsRefusedUnread() throws {
        let dir = try folder([:])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/huge.yaml"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(JSONValue.maxDocumentBytes + 1))
        try handle.close()
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(throws: ManifestLoadError.self) { try ManifestSource(paths: [dir]).snapshot() }
        #expect("\(error)".contains("the file is \(JSONValue.maxDocumentBytes + 1) bytes, more than the 64 MiB read"))
        #expect(clock.now - start < .seconds(1), "refused by its size, unread")
    }

    @Test func controlCharactersAreEscaped() {
        let hostile = "db\u{1B}]0;pwned\u{07}\u{1B}[2J\r\u{9B}31m\u{202E}txt"
        let safe = Terminal.escapingControlCharacters(hostile)
        #expect(safe == #"db\x1b]0;pwned\x07\x1b[2J\x0d\x9b31m\u{202e}txt"#)
        #expect(Terminal.escapingControlCharacters("a\tb\nc") == "a\tb\nc")
        // With colour, only our own styles pass.
        let painted = Terminal(color: true)
        #expect(painted.safe(painted.paint("ok", .green) + "\u{1B}[2J") == "\u{1B}[32mok\u{1B}[0m" + #"\x1b[2J"#)
        #expect(Terminal(color: false).safe("\u{1B}[32mok") == #"\x1b[32mok"#)
    }

    @Test func insecureConnectionsAreWarnedAbout() {
        let plain = KubeConfig(server: "http://10.0.0.1:8080", token: "t", origin: "kubeconfig x")
        #expect(
            plain.securityWarnings.count == 1 && plain.securityWarnings[0].contains("bearer token travel unencrypted"))
        let unchecked = KubeConfig(server: "https://10.0.0.1", insecureSkipTLSVerify: true, origin: "kubeconfig x")
        #expect(
            unchecked.securityWarnings.count == 1 && unchecked.securityWarnings[0].contains("insecure-skip-tls-verify"))
        #expect(KubeConfig(server: "https://10.0.0.1").securityWarnings.isEmpty)
    }

    @Test func missingTokenFileIsNamed() {
        let config = KubeConfig(server: "https://10.0.0.1", tokenFile: "/nonexistent/token", user: "sa")
        #expect(config.tokenFileProblem() == "the token file /nonexistent/token of user \"sa\" () does not exist")
        #expect(
            KubeConfig(server: "https://10.0.0.1", token: "t", tokenFile: "/nonexistent/token").tokenFileProblem()
                == nil)
    }
}

final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    var all: [String] { lock.withLock { list } }
    var add: @Sendable (String) -> Void { { [self] text in lock.withLock { list.append(text) } } }
}
