import Foundation
import TestSupport
import Testing

/// `krctl top` without a terminal, on the demo recording (deterministic, no root): batch output in every
/// format, usage and data errors.
@Suite struct TopCLITests {
    static let demo = repositoryRoot.appendingPathComponent("examples/top-demo.jsonl").path

    @Test func onceAsJSONIsAVersionedSnapshotWithRates() throws {
        let r = try Krctl.run(["top", "--replay", Self.demo, "--once", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["apiVersion"] as? String == "krctl/v1" && json["kind"] as? String == "TopSnapshot")
        for key in ["services", "pods", "drops", "peers", "controllers"] { #expect(json[key] is [Any], "\(key)") }
        // The second snapshot: the first is the rates' baseline.
        #expect(json["time"] as? String == "2026-01-01T12:00:02.000Z", "\(json["time"] ?? "")")
        let services = try #require(json["services"] as? [[String: Any]])
        let dns = try #require(services.first { $0["key"] as? String == "TCP 10.96.0.10:53" })
        #expect((dns["rates"] as? [String: Any])?["connections"] as? Double == 20)
        let pods = try #require(json["pods"] as? [[String: Any]])
        #expect(pods.first?["refusedPerSecond"] as? Double == 5)
    }

    @Test func iterationsStreamAsJSONLinesAndListAsJSON() throws {
        let lines = try Krctl.run(["top", "--replay", Self.demo, "--iterations", "3", "-o", "jsonl"])
        #expect(lines.status == 0, "\(lines.stderr)")
        let documents = lines.stdout.split(separator: "\n")
        #expect(documents.count == 3)
        #expect(documents.allSatisfy { $0.contains("\"kind\":\"TopSnapshot\"") })
        let list = try Krctl.run(["top", "--replay", Self.demo, "--iterations", "2", "-o", "json"]).json()
        #expect(list["kind"] as? String == "TopSnapshotList" && (list["items"] as? [Any])?.count == 2)
        // More iterations than the recording holds: what it has.
        let all = try Krctl.run(["top", "--replay", Self.demo, "--iterations", "50", "-o", "jsonl"])
        #expect(all.status == 0 && all.stdout.split(separator: "\n").count == 5)
    }

    @Test func pipedOutputIsTheTablesOfEveryPane() throws {
        let r = try Krctl.run(["top", "--replay", Self.demo])
        #expect(r.status == 0, "\(r.stderr)")
        for text in [
            "krctl top: node-a, ready, live, BGP 1/2, drops 5/s", "SERVICES", "POLICY", "DROPS", "BGP", "HEALTH",
            "kube-system/kube-dns:53/TCP", "NO-ENDPOINTS", "shop/evil\\x1b[31m:80/TCP", "192.168.1.3",
            "no ingress rule of shop/api allows TCP/9000 from shop/db",
        ] {
            #expect(r.stdout.contains(text), "\(text)\n\(r.stdout)")
        }
        #expect(!r.stdout.contains("\u{1B}"))
    }

    @Test func focusNarrowsTheBatchOutput() throws {
        let r = try Krctl.run(["top", "service", "shop/web", "--replay", Self.demo, "--once"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("path: TCP 10.96.12.7:80"), "\(r.stdout)")
        #expect(!r.stdout.contains("kube-dns"))
    }

    @Test func badInputIsRefused() throws {
        for (arguments, message) in [
            (["--iterations", "0"], "--iterations must be at least 1"),
            (["--once", "--iterations", "2"], "--once and --iterations exclude each other"),
            (["--record", "/tmp/a", "--replay", "/tmp/b"], "--record and --replay exclude each other"),
            (["pod"], "needs the object: NAMESPACE/NAME"),
            (["pod", "a/b/c"], "must be NAMESPACE/NAME"),
        ] {
            let r = try Krctl.run(["top"] + arguments)
            #expect(r.status == 64 && r.stderr.contains(message), "\(arguments): \(r.status) \(r.stderr)")
        }
        let format = try Krctl.run(["top", "-o", "yaml"])
        #expect(format.status == 64 && format.stderr.contains("'yaml'"), "\(format.stderr)")
        let missing = try Krctl.run(["top", "--replay", "/nonexistent/top.jsonl"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read the recording /nonexistent/top.jsonl"))
        let bad = try Krctl.temporaryManifest("{\"apiVersion\": \"krctl/v0\"}\n")
        let wrong = try Krctl.run(["top", "--replay", bad])
        #expect(wrong.status == 1 && wrong.stderr.contains("is not a krctl top snapshot"), "\(wrong.stderr)")
    }

    @Test func withoutRootItSaysSoAndExitsOne() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { return }
        let r = try Krctl.run(
            URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "nobody", "--", Krctl.binary.path, "top", "--once"])
        #expect(r.status == 1 && r.stderr.contains("run it as root on the node"), "\(r.status) \(r.stderr)")
    }
}
