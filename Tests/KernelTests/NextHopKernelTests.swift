import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel

/// `--override-nexthop` with BIRD on a second link of node s (10.97.0.0/24, not the node's InternalIP's
/// subnet): by default our routes' next hop is the node's InternalIP (10.99.0.10, which BIRD resolves through
/// a static route); with the flag it is the session's own address (10.97.0.10), installed directly.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct NextHopKernelTests {
    @Test func overrideNexthopAnnouncesTheSessionsOwnAddress() throws {
        let lab = try BGPLab()
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        let side = try lab.attach(
            "side", to: "s", link: "eth1", nodeAddress: "10.97.0.10/24", address: "10.97.0.1/24")
        let dir = try lab.dir("side")
        try lab.startBIRD(
            namespace: side, dir: dir,
            config: """
                log "\(dir)/bird.log" all;
                router id 10.97.0.1;
                protocol device { scan time 10; }
                protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
                # Node s's InternalIP resolves through its address on this link (a next hop BIRD accepts either way).
                protocol static { ipv4; route 10.99.0.0/24 via 10.97.0.10; }
                protocol direct { ipv4; interface "eth0"; }
                protocol bgp peer0 {
                  local 10.97.0.1 as 64800;
                  neighbor 10.97.0.10 as 64512;
                  direct;
                  hold time 3; startup hold time 3; keepalive time 1;
                  connect delay time 1; connect retry time 1; error wait time 1, 10;
                  ipv4 { import all; export none; gateway recursive; };
                }

                """)
        func route() -> String { Kernel.shell("birdc -s \(dir)/bird.ctl show route all 10.244.10.0/24").1 }

        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10"))
        _ = server
        let stateDir = try lab.dir("agent")
        let arguments = [
            "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
            "--run-service-proxy=false", "--cluster-asn", "64512", "--peer-router-ips", "10.97.0.1",
            "--peer-router-asns", "64800", "--bgp-holdtime", "3s", "--state-dir", stateDir, "--health-port", "0",
        ]
        var agent = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        #expect(agent.waitForPeer("10.97.0.1", stateDir: stateDir, timeout: 20), "\(agent.log)")
        try lab.eventually(10, "BIRD has the pod CIDR with the node's InternalIP as next hop") {
            route().contains("BGP.next_hop: 10.99.0.10")
        }
        agent.stop()

        agent = try AgentRun(netns: lab.ns("s"), arguments: arguments + ["--override-nexthop=true"])
        defer { agent.stop() }
        #expect(agent.waitForPeer("10.97.0.1", stateDir: stateDir, timeout: 20), "\(agent.log)")
        try lab.eventually(15, "the pod CIDR in side's kernel via the session's address") {
            Kernel.shell("ip -n \(side) route show").1.contains("10.244.10.0/24 via 10.97.0.10")
        }
        #expect(route().contains("BGP.next_hop: 10.97.0.10"), "\(route())")
        #expect(!route().contains("BGP.next_hop: 10.99.0.10"), "\(route())")
    }
}
