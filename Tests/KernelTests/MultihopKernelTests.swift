import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel

/// eBGP TTL with BIRD two hops away (behind a router namespace): with `--peer-router-multihop-ttl 2` the session
/// comes up and BIRD installs the pod CIDR; without it an eBGP session leaves with TTL 1, as kube-router's
/// (GoBGP's) does, so the router drops it and the session never establishes.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct MultihopKernelTests {
    @Test func aPeerTwoHopsAwayNeedsTheMultihopTTL() throws {
        let lab = try BGPLab()
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        try lab.addNode("r", ip: "10.99.0.20", podCIDR: "10.244.20.0/24", asn: 64513)
        // far: BIRD behind r, on 10.98.0.0/24.
        let far = try lab.attach(
            "far", to: "r", link: "far0", nodeAddress: "10.98.0.1/24", address: "10.98.0.2/24", gateway: "10.98.0.1")
        try lab.sh("ip -n \(lab.ns("s")) route add 10.98.0.0/24 via 10.99.0.20")
        let dir = try lab.dir("far")
        try lab.startBIRD(
            namespace: far, dir: dir,
            config: """
                log "\(dir)/bird.log" all;
                router id 10.98.0.2;
                protocol device { scan time 10; }
                protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
                # The way to node s, for the BGP next hop (recursive: node s is not on this link).
                protocol static { ipv4; route 10.99.0.0/24 via 10.98.0.1; }
                protocol bgp peer0 {
                  local 10.98.0.2 as 64700;
                  neighbor 10.99.0.10 as 64512;
                  multihop 2;
                  hold time 3; startup hold time 3; keepalive time 1;
                  connect delay time 1; connect retry time 1; error wait time 1, 10;
                  ipv4 { import all; export none; };
                }

                """)

        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10"))
        _ = server
        let stateDir = try lab.dir("agent")
        let arguments = [
            "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
            "--run-service-proxy=false", "--cluster-asn", "64512", "--peer-router-ips", "10.98.0.2",
            "--peer-router-asns", "64700", "--bgp-holdtime", "3s", "--state-dir", stateDir, "--health-port", "0",
        ]
        // Two hops allowed: Established, and BIRD installs the pod CIDR via node s.
        var agent = try AgentRun(netns: lab.ns("s"), arguments: arguments + ["--peer-router-multihop-ttl", "2"])
        #expect(agent.waitForPeer("10.98.0.2", stateDir: stateDir, timeout: 20), "\(agent.log)")
        try lab.eventually(10, "the pod CIDR in far's kernel") {
            Kernel.shell("ip -n \(far) route show").1.contains("10.244.10.0/24 via 10.98.0.1")
        }
        agent.stop()

        // Without the flag: TTL 1, the router drops our packets; the session fails and never establishes.
        agent = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        defer { agent.stop() }
        #expect(
            agent.waitForPeer("10.98.0.2", stateDir: stateDir, timeout: 20) { $0.lastError != nil },
            "the session to a peer two hops away fails: \(agent.log)")
        #expect(
            !agent.waitForPeer("10.98.0.2", stateDir: stateDir, timeout: 5) { $0.state == "Established" },
            "\(agent.bgpPeers(stateDir: stateDir) ?? [])")
    }
}
