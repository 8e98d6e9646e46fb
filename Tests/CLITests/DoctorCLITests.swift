import Foundation
import Planning
import TestSupport
import Testing

/// `krctl doctor` on fixture trees (`--root`) and on this machine.
@Suite struct DoctorCLITests {
    /// The checks of a JSON report, by id, each check's keys checked to be exactly the documented ones.
    func checks(_ r: Krctl.Result) throws -> [String: [String: Any]] {
        let json = try r.json()
        #expect(Set(json.keys) == ["checks"], "\(json.keys)")
        let list = try #require(json["checks"] as? [[String: Any]])
        var byID: [String: [String: Any]] = [:]
        for check in list {
            #expect(Set(check.keys) == ["id", "status", "message", "fix", "issue"], "\(check)")
            let id = try #require(check["id"] as? String)
            #expect(["OK", "WARN", "FAIL", "SKIP"].contains(check["status"] as? String ?? ""), "\(check)")
            #expect(check["fix"] is String || check["fix"] is NSNull)
            #expect(check["issue"] is String || check["issue"] is NSNull)
            byID[id] = check
        }
        #expect(byID.count == list.count, "ids are unique")
        return byID
    }

    func doctor(_ fixture: NodeFixture, _ extra: [String] = []) throws -> Krctl.Result {
        try Krctl.run(["doctor", "--root", fixture.root, "-o", "json"] + extra)
    }

    func status(_ checks: [String: [String: Any]], _ id: String) -> String? { checks[id]?["status"] as? String }

    @Test func healthyNodeExitsZero() throws {
        let fixture = try NodeFixture()
        let r = try doctor(fixture)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let checks = try checks(r)
        for id in [
            "module-xt_set", "module-ip_vs", "sysctl-ip_forward", "sysctl-rp_filter", "iptables-backends",
            "forward-policy", "xtables-lock", "cni-config", "cni-plugins", "node-addresses",
        ] {
            #expect(status(checks, id) == "OK", "\(id): \(checks[id] ?? [:])")
        }
        #expect(status(checks, "api-rbac") == "SKIP", "no API under a fixture root without --kubeconfig")
        #expect(checks["sysctl-ip_forward"]?["fix"] is NSNull)
        #expect(checks["sysctl-rp_filter"]?["issue"] as? String == DoctorIssue.rpFilter)

        let text = try Krctl.run(["doctor", "--root", fixture.root, "--no-color"])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("STATUS   CHECK") == true, "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("OK ") && $0.contains("sysctl-ip_forward") })
        #expect(lines.last?.contains("0 FAIL") == true && lines.last?.contains("0 WARN") == true)

        let yaml = try Krctl.run(["doctor", "--root", fixture.root, "-o", "yaml"])
        #expect(yaml.status == 0 && yaml.stdout.hasPrefix("checks:"), "\(yaml.stdout.prefix(200))")
    }

    @Test func strictRPFilterWarnsWithExitOne() throws {
        let fixture = try NodeFixture()
        try fixture.sysctl("net.ipv4.conf.all.rp_filter", "1")
        let r = try doctor(fixture)
        #expect(r.status == 1, "\(r.stdout)")
        let checks = try checks(r)
        #expect(status(checks, "sysctl-rp_filter") == "WARN")
        #expect((checks["sysctl-rp_filter"]?["fix"] as? String)?.contains("rp_filter=2") == true)
        let text = try Krctl.run(["doctor", "--root", fixture.root, "--no-color"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("WARN sysctl-rp_filter: use loose mode"), "\(text.stdout)")
        #expect(text.stdout.contains(DoctorIssue.rpFilter))
    }

    @Test func ipForwardOffFailsWithExitTwo() throws {
        let fixture = try NodeFixture()
        try fixture.sysctl("net.ipv4.ip_forward", "0")
        let r = try doctor(fixture)
        #expect(r.status == 2, "\(r.stdout)")
        #expect(status(try checks(r), "sysctl-ip_forward") == "FAIL")
        // The router and the service proxy need forwarding; the firewall alone does not.
        let firewallOnly = try doctor(fixture, ["--controllers", "firewall"])
        #expect(firewallOnly.status == 0, "\(firewallOnly.stdout)")
        #expect(status(try checks(firewallOnly), "sysctl-ip_forward") == "SKIP")
    }

    @Test func missingXtSetModuleFails() throws {
        let fixture = try NodeFixture()
        try fixture.loaded(DoctorCatalog.modules.map(\.name).filter { $0 != "xt_set" })
        try fixture.write("/lib/modules/\(NodeFixture.release)/modules.dep", "")
        let r = try doctor(fixture)
        #expect(r.status == 2, "\(r.stdout)")
        let checks = try checks(r)
        #expect(status(checks, "module-xt_set") == "FAIL")
        #expect(checks["module-xt_set"]?["issue"] as? String == DoctorIssue.xtSet)
        #expect(status(checks, "module-ip_set") == "OK")
        // The kernel config says it can be loaded: the kernel does that on first use.
        try fixture.write("/boot/config-\(NodeFixture.release)", "CONFIG_NETFILTER_XT_SET=m\n")
        let loadable = try doctor(fixture)
        #expect(loadable.status == 0, "\(loadable.stdout)")
    }

    @Test func dockerForwardDropWarns() throws {
        let fixture = try NodeFixture()
        try fixture.write(
            "/.doctor/iptables-legacy-save",
            NodeFixture.legacyRules.replacingOccurrences(of: ":FORWARD ACCEPT", with: ":FORWARD DROP")
                .replacingOccurrences(
                    of: ":KUBE-ROUTER-INPUT - [0:0]", with: ":KUBE-ROUTER-INPUT - [0:0]\n:DOCKER - [0:0]"))
        let r = try doctor(fixture)
        #expect(r.status == 1, "\(r.stdout)")
        let checks = try checks(r)
        #expect(status(checks, "forward-policy") == "WARN")
        #expect((checks["forward-policy"]?["message"] as? String)?.contains("Docker") == true)
        #expect(checks["forward-policy"]?["issue"] as? String == DoctorIssue.forwardDrop)
    }

    @Test func agentStatusFilesAreRead() throws {
        let fixture = try NodeFixture()
        var firewall = FirewallStatus(node: "n1", syncs: 4, lastSync: Date(), podChains: [:], defaultDeny: false)
        firewall.pid = 4242
        try fixture.agentStatus(firewall, running: true)
        var checks = try checks(try doctor(fixture))
        #expect(status(checks, "agent-health") == "OK", "\(checks["agent-health"] ?? [:])")
        try fixture.remove("/proc/4242")
        let stopped = try doctor(fixture)
        #expect(stopped.status == 1)
        checks = try self.checks(stopped)
        #expect(status(checks, "agent-health") == "WARN")
        #expect((checks["agent-health"]?["message"] as? String)?.contains("4242") == true)
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let r = try Krctl.run(["doctor", "--controllers", "firewall,bogus"])
        #expect(r.status == 64 && r.stderr.contains("bogus"), "\(r.stderr)")
        let missing = try Krctl.run(["doctor", "--root", "/nonexistent-\(UUID().uuidString)"])
        #expect(missing.status == 64, "\(missing.stderr)")
    }

    /// `krctl doctor` on this machine gives a well-formed report whose ip_forward check says what /proc says.
    @Test func reportsThisMachineHonestly() throws {
        let r = try Krctl.run(["doctor", "-o", "json", "--request-timeout", "3s"])
        let checks = try checks(r)
        let worst = checks.values.compactMap { $0["status"] as? String }.map { status -> Int32 in
            status == "FAIL" ? 2 : status == "WARN" ? 1 : 0
        }.max()
        #expect(r.status == worst, "exit status \(r.status) for the worst status \(String(describing: worst))")
        let forward = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status(checks, "sysctl-ip_forward") == (forward == "1" ? "OK" : "FAIL"), "ip_forward=\(forward)")
        let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
        #expect(!release.isEmpty)
        // Every module check gave an answer or said why not.
        for module in DoctorCatalog.modules {
            let check = try #require(checks["module-\(module.name)"])
            #expect(!(check["message"] as? String ?? "").isEmpty)
        }
        let ipvs = FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
        if ipvs { #expect(status(checks, "module-ip_vs") == "OK") }
    }
}
