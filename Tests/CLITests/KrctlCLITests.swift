import Foundation
import KubeModel
import TestSupport
import Testing

/// Runs the built `krctl` binary the way an operator or a CI job does, and checks its output.
struct Krctl {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(stdout)")
        }
    }

    static let binary = builtExecutable("krctl")
    static let examples = repositoryRoot.appendingPathComponent("examples/cluster").path

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(binary, arguments, environment: environment)
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let (status, stdout, stderr) = try TestSupport.run(executable.path, arguments, environment: environment)
        return Result(status: status, stdout: stdout, stderr: stderr)
    }

    static func temporaryManifest(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("krctl-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

@Suite(.serialized) struct ExplainPolicyCLITests {
    let examples = Krctl.examples

    @Test func allowedQueryAsJSON() throws {
        let r = try Krctl.run([
            "explain-policy", "--manifests", examples, "--from", "shop/frontend", "--to", "shop/api",
            "--port", "http", "-o", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["verdict"] as? String == "allow")
        #expect(json["port"] as? Int == 9000)
        #expect(json["portName"] as? String == "http")
        let ingress = try #require(json["ingress"] as? [String: Any])
        #expect(ingress["isolated"] as? Bool == true)
        #expect(ingress["policies"] as? [String] == ["shop/api", "shop/default-deny"])
        let allowedBy = try #require(ingress["allowedBy"] as? [[String: Any]])
        #expect(allowedBy.first?["policy"] as? String == "shop/api")
        #expect(allowedBy.first?["rule"] as? Int == 0)
        let egress = try #require(json["egress"] as? [String: Any])
        #expect(egress["verdict"] as? String == "allow")
        #expect((json["from"] as? [String: Any])?["pod"] as? String == "shop/frontend")
    }

    @Test func deniedQueryExitsZeroWithReasons() throws {
        let r = try Krctl.run([
            "explain-policy", "-f", examples, "--from", "dev/debug", "--to", "shop/db", "--port", "5432", "-o", "json",
        ])
        #expect(r.status == 0)
        let json = try r.json()
        #expect(json["verdict"] as? String == "deny")
        let ingress = try #require(json["ingress"] as? [String: Any])
        #expect(ingress["verdict"] as? String == "deny")
        #expect((ingress["allowedBy"] as? [Any])?.isEmpty == true)
        #expect((ingress["rules"] as? [[String: Any]])?.first?["allows"] as? Bool == false)
    }

    @Test func externalSourceByAddress() throws {
        let blocked = try Krctl.run([
            "explain-policy", "-f", examples, "--from", "203.0.113.9", "--to", "shop/frontend", "--port", "8080", "-o",
            "json",
        ])
        #expect(try blocked.json()["verdict"] as? String == "deny", "203.0.113.0/24 is excepted")
        let open = try Krctl.run([
            "explain-policy", "-f", examples, "--from", "198.51.100.1", "--to", "shop/frontend", "--port", "8080", "-o",
            "json",
        ])
        #expect(try open.json()["verdict"] as? String == "allow")
        #expect((try open.json()["from"] as? [String: Any])?["kind"] as? String == "external")
    }

    @Test func textOutputNamesTheDecidingRule() throws {
        let r = try Krctl.run(
            [
                "explain-policy", "-f", examples, "--from", "monitoring/prometheus", "--to", "shop/api",
                "--port", "metrics",
            ], environment: ["NO_COLOR": "1"])
        #expect(r.status == 0)
        #expect(
            r.stdout.hasPrefix("ALLOW  monitoring/prometheus (10.244.2.30) → shop/api (10.244.1.11)  port 9100/TCP"))
        #expect(
            r.stdout.contains(
                "✓ shop/api ingress rule 1: all pods in namespaces {team=platform}, port \"metrics\"/TCP")
        )
        #expect(r.stdout.contains("named port \"metrics\"/TCP on shop/api → 9100"))
        #expect(!r.stdout.contains("\u{1B}["))
    }

    @Test func yamlOutput() throws {
        let r = try Krctl.run([
            "explain-policy", "-f", examples, "--from", "shop/api", "--to", "shop/db", "--port", "5432/tcp", "-o",
            "yaml",
        ])
        #expect(r.status == 0)
        #expect(r.stdout.contains("verdict: allow"))
        #expect(r.stdout.contains("protocol: TCP"))
    }

    @Test func matrixAsJSON() throws {
        let r = try Krctl.run([
            "explain-policy", "-f", examples, "--matrix", "--port", "5432/TCP", "--port", "53/UDP", "-o", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let cells = try #require(try r.json()["cells"] as? [[String: Any]])
        #expect(cells.count == 2 * 5 * 4)
        let apiToDB = cells.first {
            $0["from"] as? String == "shop/api" && $0["to"] as? String == "shop/db" && $0["port"] as? Int == 5432
        }
        #expect(apiToDB?["verdict"] as? String == "allow")
        #expect(apiToDB?["protocol"] as? String == "TCP")
        let dbToAPI = cells.first {
            $0["from"] as? String == "shop/db" && $0["to"] as? String == "shop/api" && $0["port"] as? Int == 5432
        }
        #expect(dbToAPI?["verdict"] as? String == "deny")
        #expect(Set(cells.compactMap { $0["verdict"] as? String }) == ["allow", "deny"])
    }

    @Test func matrixTextForOneNamespace() throws {
        let r = try Krctl.run(
            ["explain-policy", "-f", examples, "--matrix", "--port", "5432", "-n", "shop"],
            environment: ["NO_COLOR": "1"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("1 shop/api"))
        #expect(r.stdout.contains("1 of 6 pairs allowed"))
    }

    @Test func invalidManifestNamesFileObjectAndField() throws {
        let path = try Krctl.temporaryManifest(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: broken, namespace: shop}
            spec:
              podSelector: {}
              ingress:
              - ports: [{port: 80, endPort: 70}]
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Krctl.run(["explain-policy", "-f", path, "--from", "1.2.3.4", "--to", "shop/x", "--port", "80"])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains(
                "\(path): NetworkPolicy shop/broken: spec.ingress[0].ports[0].endPort: 70 is below port 80"),
            "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func unknownPodIsAnError() throws {
        let r = try Krctl.run([
            "explain-policy", "-f", examples, "--from", "shop/nope", "--to", "shop/api", "--port", "80",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pod shop/nope not found"))
    }

    @Test(arguments: [
        ["--from", "shop/api", "--to", "shop/db"],
        ["--from", "shop/api", "--to", "shop/db", "--port", "99999"],
        ["--from", "shop/api", "--to", "shop/db", "--port", "80/ICMP"],
        ["--matrix"],
        ["--from", "shop/api", "--to", "shop/db", "--port", "80", "-o", "xml"],
    ])
    func usageErrors(_ arguments: [String]) throws {
        let r = try Krctl.run(["explain-policy", "-f", examples] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains("Error:") || r.stderr.contains("error"), "\(r.stderr)")
    }

    @Test func noSourceAsksForManifests() throws {
        let r = try Krctl.run(["explain-policy", "--from", "a/b", "--to", "c/d", "--port", "80"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--manifests"))
    }

    @Test func policyCheckRefusesWhatItCannotAnswer() throws {
        let ip = try Krctl.run(["policy", "check", "10.0.0.1", "-f", examples])
        #expect(ip.status == 64 && ip.stderr.contains("expected NAMESPACE/POD or POD"), "\(ip.stderr)")
        let missing = try Krctl.run(["policy", "check", "shop/nope", "-f", examples])
        #expect(missing.status == 1 && missing.stderr.contains("pod shop/nope not found"), "\(missing.stderr)")
        let format = try Krctl.run(["policy", "check", "shop/api", "-f", examples, "-o", "xml"])
        #expect(format.status == 64)
    }

    @Test func versionListsTheLinkedLibraries() throws {
        let r = try Krctl.run(["version"])
        #expect(r.status == 0)
        for library in ["libnl", "libipset", "libiptc", "libcurl", "ncursesw"] {
            #expect(r.stdout.contains(library))
        }
    }
}

@Suite struct ShippedFilesTests {
    /// The completion scripts in completions/ must match what the parser generates today.
    @Test(arguments: [("bash", "krctl.bash"), ("zsh", "_krctl"), ("fish", "krctl.fish")])
    func completionsAreCurrent(shell: String, file: String) throws {
        let committed = try String(
            contentsOf: repositoryRoot.appendingPathComponent("completions/\(file)"), encoding: .utf8)
        let generated = try Krctl.run(["--generate-completion-script", shell])
        #expect(generated.status == 0)
        #expect(generated.stdout == committed, "completions/\(file) is stale: run scripts/generate-completions")
    }
}

/// `krctl trace service` off the node: the plan from manifests, with the policy verdict per endpoint.
@Suite struct TraceServiceCLITests {
    @Test func planAndPolicyPerEndpoint() throws {
        let r = try Krctl.run([
            "trace", "service", "shop/db", "--from", "shop/api", "-f", Krctl.examples, "--kernel", "never",
            "--node", "node-a", "-o", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONValue.parseJSON(Data(r.stdout.utf8))
        guard case .array(let services)? = json["virtualServices"] else {
            Issue.record("no virtualServices: \(r.stdout)")
            return
        }
        // The ClusterIP on every node, and the NodePort on node-a's address; the scheduler from the annotation.
        #expect(services.compactMap { $0["key"]?.stringValue } == ["TCP 10.96.0.21:5432", "TCP 192.168.10.11:30432"])
        #expect(services.allSatisfy { $0["scheduler"]?.stringValue == "lc" })
        guard case .array(let servers)? = services.first?["realServers"], let server = servers.first else {
            Issue.record("no real servers: \(r.stdout)")
            return
        }
        #expect(server["address"]?.stringValue == "10.244.2.20" && server["pod"]?.stringValue == "shop/db")
        #expect(server["policy"]?.stringValue == "allow", "\(r.stdout)")
        #expect(json["kernelRead"] == .bool(false))
    }

    @Test func deniedClientIsExplainedInText() throws {
        let r = try Krctl.run([
            "trace", "service", "db", "-n", "shop", "--from", "dev/debug", "-f", Krctl.examples, "--kernel", "never",
            "--node", "node-a", "--port", "postgres",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("10.244.2.20:5432") && r.stdout.contains("deny") && r.stdout.contains("kernel not read"),
            "\(r.stdout)")
    }

    @Test func unknownServiceOrPortIsAClearError() throws {
        let missing = try Krctl.run(["trace", "service", "shop/nope", "-f", Krctl.examples, "--kernel", "never"])
        #expect(
            missing.status == 1 && missing.stderr.contains("service shop/nope not found")
                && missing.stderr.contains("shop/api"), "\(missing.stderr)")
        let port = try Krctl.run([
            "trace", "service", "shop/api", "--port", "9999", "-f", Krctl.examples, "--kernel", "never",
        ])
        #expect(port.status == 1 && port.stderr.contains("has no port \"9999\""), "\(port.stderr)")
    }
}

@Suite struct KubeRouterCLITests {
    static func run(_ arguments: [String]) throws -> Krctl.Result {
        try Krctl.run(builtExecutable("kube-router"), arguments)
    }

    @Test func acceptsGoStyleBooleanFlags() throws {
        let r = try Self.run([
            "--run-router=false", "--run-service-proxy=false", "--run-firewall=false", "--netpol-default-deny",
            "--bgp-graceful-restart", "--nodes-full-mesh", "--iptables-sync-period=90s", "--v=2",
        ])
        #expect(r.status == 1, "runs (and says it cannot), not a usage error: \(r.stderr)")
        #expect(r.stderr.contains("nothing to run"), "\(r.stderr)")
    }

    @Test(arguments: [
        (["--peer-router-ips", "10.0.0.1,10.0.0.2", "--peer-router-asns", "65001"], "2 peer address(es) but 1 ASN(s)"),
        (["--bgp-holdtime", "2s"], "invalid --bgp-holdtime"),
        (["--router-id", "fd00::1"], "is not an IPv4 address"),
        (["--bgp-port", "0"], "invalid --bgp-port 0 (a TCP port, 1-65535)"),
        (["--bgp-port", "65536"], "invalid --bgp-port 65536"),
        (["--peer-router-max-prefixes", "0"], "invalid --peer-router-max-prefixes 0 (at least 1)"),
        (["--service-cluster-ip-range", "10.96.0.0/33"], "--service-cluster-ip-range: \"10.96.0.0/33\" is not a CIDR"),
        (["--service-external-ip-range", "203.0.113.0"], "--service-external-ip-range: \"203.0.113.0\" is not a CIDR"),
        (["--bgp-import-reject", "10.0.0.0/8,bogus"], "--bgp-import-reject: \"bogus\" is not a CIDR"),
    ])
    func badRouterFlagsAreUsageErrors(arguments: [String], message: String) throws {
        let r = try Self.run(arguments)
        #expect(r.status == 64 && r.stderr.contains(message), "\(r.stderr)")
    }

    /// Our build hosts' kernels have no IPVS (the VM suites have): the agent must refuse, not pretend.
    /// Where IPVS is present the test is reported as skipped, not passed.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/proc/net/ip_vs"), "this kernel has IPVS"))
    func serviceProxyWithoutIPVSSaysWhatToDo() throws {
        let r = try Self.run(["--kubeconfig", "/nonexistent/kubeconfig", "--run-router=false", "--run-firewall=false"])
        #expect(
            r.status == 1 && r.stderr.contains("IPVS is not available")
                && r.stderr.contains("--run-service-proxy=false"), "\(r.stderr)")
    }

    @Test func missingKubeconfigIsAClearError() throws {
        let r = try Self.run([
            "--kubeconfig", "/nonexistent/kubeconfig", "--run-router=false", "--run-service-proxy=false",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot read kubeconfig /nonexistent/kubeconfig"), "\(r.stderr)")
    }

    @Test func rejectsABadDuration() throws {
        let r = try Self.run(["--iptables-sync-period", "soon"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--iptables-sync-period"))
    }

    /// Cleanup touches the host's firewall (only our chains and sets), so it needs root.
    @Test(.enabled(if: geteuid() == 0)) func cleanupSucceeds() throws {
        let r = try Self.run(["--cleanup-config"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("cleanup done"))
    }
}
