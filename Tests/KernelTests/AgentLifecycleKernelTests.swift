import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// The agent as a DaemonSet's kubelet sees it, in a network namespace against kube-test-server with BIRD as
/// a graceful-restart peer: `/readyz` turns 200 after the first syncs, `/metrics` passes `promtool check
/// metrics` with every family present, slow and garbage clients do not hold the probes up, and SIGTERM
/// ends the agent with status 0 within the timeout, leaving its chains and routes in the kernel and BIRD
/// keeping our route as stale (no NOTIFICATION: graceful restart). The next run keeps the routes the
/// previous one left until BIRD's End-of-RIB.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct AgentLifecycleKernelTests {
    static let promtool = FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")

    func curl(_ lab: BGPLab, _ node: String, _ arguments: String) -> (Int32, String) {
        Kernel.shell("ip netns exec \(lab.ns(node)) curl -sS --max-time 5 \(arguments)")
    }

    /// The HTTP status and body of a GET in the node's namespace.
    func get(_ lab: BGPLab, _ node: String, _ url: String, accept: String? = nil) -> (code: Int, body: String) {
        let header = accept.map { "-H 'Accept: \($0)' " } ?? ""
        let (_, out) = curl(lab, node, "\(header)-w '\\n%{http_code}' '\(url)'")
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.dropLast().joined(separator: "\n")
        return (Int(lines.last ?? "") ?? 0, body.hasSuffix("\n") ? String(body.dropLast()) : body)
    }

    /// One sample's value from an exposition text: the line that starts with `series` (name and labels).
    func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func probesMetricsAndGracefulShutdown() throws {
        let lab = try BGPLab()
        try lab.addNode("a", ip: "10.99.0.1", podCIDR: "10.244.1.0/24", asn: 64600)
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        let s = lab.nodes["s"]!
        try lab.startBIRD("a", peers: [s], gracefulRestart: true)

        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10"))
        let stateDir = try lab.dir("agent")
        let arguments = [
            "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-service-proxy=false",
            "--cluster-asn", "64512", "--peer-router-ips", "10.99.0.1", "--peer-router-asns", "64600",
            "--bgp-holdtime", "3s", "--bgp-graceful-restart", "--bgp-graceful-restart-time", "60s",
            "--state-dir", stateDir, "--metrics-port", "9101", "--shutdown-timeout", "5s",
        ]
        let agent = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        defer { agent.stop() }

        // Ready once the informers synced, the firewall and router did a full sync and the speaker listens.
        try lab.eventually(30, "/readyz answers 200") {
            get(lab, "s", "http://127.0.0.1:20244/readyz").code == 200
        }
        let verbose = get(lab, "s", "http://127.0.0.1:20244/readyz?verbose")
        #expect(verbose.body.contains("[+]firewall ok"), "\(verbose.body)")
        #expect(verbose.body.contains("[+]router ok"), "\(verbose.body)")
        #expect(verbose.body.contains("[+]node ok"), "the node checks pass: \(verbose.body)")
        #expect(verbose.body.hasSuffix("readyz check passed"), "\(verbose.body)")
        let json = get(lab, "s", "http://127.0.0.1:20244/livez", accept: "application/json")
        let live = try JSONDecoder().decode(LiveReport.self, from: Data(json.body.utf8))
        #expect(json.code == 200 && live.status == "ok" && Set(live.checks.map(\.name)) == ["firewall", "router"])
        #expect(get(lab, "s", "http://127.0.0.1:20244/healthz").body == "ok")
        #expect(get(lab, "s", "http://127.0.0.1:20244/nope").code == 404)

        #expect(agent.waitForPeer("10.99.0.1", stateDir: stateDir, timeout: 20), "\(agent.log)")
        try lab.eventually(15, "routes both ways") {
            lab.routes("s", proto: "201").contains("10.244.1.0/24 via 10.99.0.1")
                && lab.routes("a").contains("10.244.10.0/24 via 10.99.0.10")
        }

        // A slow client (half a request) and a garbage one hold connections; the probes still answer.
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        slow.arguments = ["netns", "exec", lab.ns("s"), "python3", "-c", Self.slowClients]
        let out = Pipe()
        slow.standardOutput = out
        try slow.run()
        defer { slow.terminate() }
        // Its first line, once both connections are open (a blocking read: the script prints it at once).
        let first = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        #expect(first.hasPrefix("holding"), "the slow clients connected: \(first)")
        for _ in 0..<5 { #expect(get(lab, "s", "http://127.0.0.1:20244/livez").code == 200) }
        let huge = curl(
            lab, "s",
            "-o /dev/null -w '%{http_code}' -H 'X-Big: \(String(repeating: "a", count: 100_000))' "
                + "http://127.0.0.1:20244/livez")
        #expect(huge.1.hasPrefix("4"), "a 100 kB header is refused: \(huge.1)")

        // Metrics: promtool accepts them, and the families are there with plausible values.
        try lab.eventually(10, "the BGP peer is counted as established") {
            sample(
                get(lab, "s", "http://127.0.0.1:9101/metrics").body,
                "kube_router_bgp_peers{type=\"external\",state=\"Established\"}") == 1
        }
        let metrics = get(lab, "s", "http://127.0.0.1:9101/metrics")
        #expect(metrics.code == 200)
        if Self.promtool {
            let file = try lab.dir("agent") + "/metrics.txt"
            try (metrics.body + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let (status, out) = Kernel.shell("promtool check metrics < \(file)")
            #expect(status == 0, "promtool: \(out)")
        } else {
            Issue.record("promtool is missing: run scripts/setup")
        }
        let text = metrics.body
        #expect(sample(text, "kube_router_build_info{version=\"0.1.0\",swift_version=\"6.3\"}") == 1)
        #expect((sample(text, "process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((sample(text, "process_open_fds") ?? 0) > 3)
        #expect(sample(text, "kube_router_ready") == 1)
        #expect(sample(text, "kube_router_informer_synced{resource=\"nodes\"}") == 1)
        #expect((sample(text, "kube_router_api_requests_total{verb=\"LIST\",code=\"200\"}") ?? 0) >= 1, "\(text)")
        #expect(
            (sample(text, "kube_router_syncs_total{controller=\"firewall\",kind=\"full\",result=\"success\"}") ?? 0)
                >= 1)
        #expect(
            (sample(text, "kube_router_sync_duration_seconds_count{controller=\"router\"}") ?? 0) >= 1, "\(text)")
        #expect(
            text.contains("kube_router_sync_phase_duration_seconds_bucket{controller=\"firewall\",phase=\"iptables\""))
        #expect((sample(text, "kube_router_last_sync_success_timestamp_seconds{controller=\"firewall\"}") ?? 0) > 1e9)
        #expect((sample(text, "kube_router_firewall_chains") ?? 0) >= 1)
        #expect(sample(text, "kube_router_bgp_peer_up{peer=\"10.99.0.1\",asn=\"64600\"}") == 1)
        #expect(sample(text, "kube_router_bgp_prefixes_received{peer=\"10.99.0.1\"}") == 1)
        #expect(sample(text, "kube_router_bgp_prefixes_advertised{peer=\"10.99.0.1\"}") == 1)
        #expect((sample(text, "kube_router_bgp_updates_received_total{peer=\"10.99.0.1\"}") ?? 0) >= 1)
        #expect(sample(text, "kube_router_bgp_routes_installed") == 1)
        #expect(sample(text, "kube_router_node_check{check=\"sysctl-ip_forward\",status=\"OK\"}") == 1, "\(text)")
        #expect(sample(text, "kube_router_node_check{check=\"api-rbac\",status=\"FAIL\"}") == 0)

        // SIGTERM: exit 0 within the timeout; chains and routes stay; BIRD keeps our route as stale.
        let chainsBefore = Kernel.shell("ip netns exec \(lab.ns("s")) iptables-legacy -S").1
            .split(separator: "\n").filter { $0.hasPrefix("-N KUBE-ROUTER") }
        #expect(!chainsBefore.isEmpty)
        let ended = agent.terminate(timeout: 15)
        #expect(ended?.status == 0, "exit status \(String(describing: ended)): \(agent.log)")
        #expect((ended?.seconds ?? 99) < 6, "within --shutdown-timeout: \(String(describing: ended))")
        #expect(agent.log.contains("kube-router: stopped; the kernel keeps"), "\(agent.log)")
        let chainsAfter = Kernel.shell("ip netns exec \(lab.ns("s")) iptables-legacy -S").1
            .split(separator: "\n").filter { $0.hasPrefix("-N KUBE-ROUTER") }
        #expect(chainsAfter == chainsBefore)
        #expect(lab.routes("s", proto: "201").contains("10.244.1.0/24 via 10.99.0.1"), "our learned route stays")
        try lab.eventually(10, "BIRD sees the session go") {
            !Kernel.shell("birdc -s \(lab.state)/a/bird.ctl show protocols peer0").1.contains("Established")
        }
        #expect(
            lab.routes("a").contains("10.244.10.0/24 via 10.99.0.10"), "BIRD keeps our route while we restart")
        let birdLog = (try? String(contentsOfFile: "\(lab.state)/a/bird.log", encoding: .utf8)) ?? ""
        #expect(!birdLog.contains("Received: Administrative shutdown"), "no Cease under graceful restart")

        // The next run keeps the routes the last one left until every peer has sent End-of-RIB: BIRD's stays
        // and is ours again; one no peer announces (left by an older run) goes once BIRD's End-of-RIB came,
        // long before the deferral time (6m).
        #expect(Kernel.shell("ip -n \(lab.ns("s")) route add 10.250.0.0/24 via 10.99.0.1 proto 201").0 == 0)
        let again = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        defer { again.stop() }
        #expect(again.waitForPeer("10.99.0.1", stateDir: stateDir, timeout: 20), "\(again.log)")
        #expect(lab.routes("s", proto: "201").contains("10.244.1.0/24 via 10.99.0.1"))
        try lab.eventually(15, "the leftover no peer announces goes after End-of-RIB") {
            !lab.routes("s", proto: "201").contains("10.250.0.0/24")
        }
        #expect(lab.routes("s", proto: "201").contains("10.244.1.0/24 via 10.99.0.1"), "BIRD's route stays")
        try lab.eventually(15, "the restarted agent's readiness") {
            get(lab, "s", "http://127.0.0.1:20244/readyz").code == 200
        }
        _ = server
    }

    struct LiveReport: Decodable {
        struct Check: Decodable { var name: String }
        var status: String
        var checks: [Check]
    }

    /// Opens two connections to the health port: one sends half a request, one sends garbage without a
    /// newline; prints "holding" and keeps them open.
    static let slowClients = """
        import socket, sys, time
        a = socket.create_connection(("127.0.0.1", 20244)); a.sendall(b"GET /livez HTTP/1.1\\r\\nHost: x\\r\\n")
        b = socket.create_connection(("127.0.0.1", 20244)); b.sendall(bytes(range(256)) * 4)
        print("holding", flush=True)
        time.sleep(60)
        """
}
