import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel

/// Pod egress with real traffic: a pod in its own network namespace behind the agent's node reaches a host
/// outside the cluster (no route to the pod CIDRs) only because the agent masquerades it, and that host sees
/// the node's address; traffic to another node's pod CIDR or to a node's address keeps the pod's address; an
/// agent started with `--enable-pod-egress=false` removes the chain and sets, and the pod's address shows again.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct PodEgressKernelTests {
    /// A TCP server in `node` on `port` that accepts one connection and prints the peer's address.
    static let server = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', int(sys.argv[1])))
        s.listen(1)
        print('listening', flush=True)
        s.settimeout(15)
        try:
            c, peer = s.accept()
            print(peer[0], flush=True)
        except socket.timeout:
            print('timeout', flush=True)
        """

    /// The source address `to` sees when the pod (namespace `pod`) connects to it; nil when it cannot connect.
    func sourceSeen(_ lab: BGPLab, pod: String, host: String, at address: String, port: Int) throws -> String? {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        server.arguments = ["netns", "exec", lab.ns(host), "python3", "-c", Self.server, "\(port)"]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let first = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard first.hasPrefix("listening") else { return nil }
        let (status, _) = Kernel.shell(
            "ip netns exec \(pod) python3 -c \"import socket; socket.create_connection(('\(address)', \(port)), "
                + "timeout=3).close()\"")
        guard status == 0 else { return nil }
        server.waitUntilExit()
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return rest.split(separator: "\n").first.map(String.init)
    }

    @Test func podsLeaveTheClusterWithTheNodesAddress() throws {
        let lab = try BGPLab()
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        try lab.addNode("x", ip: "10.99.0.20", podCIDR: "10.250.0.0/24", asn: 64600)
        // The pod: the node's pod0p in a namespace of its own, its default route through the node.
        let pod = lab.ns("pod")
        try lab.sh("ip netns add \(pod)")
        defer { Kernel.shell("ip netns del \(pod)") }
        try lab.sh("ip -n \(lab.ns("s")) link set pod0p netns \(pod)")
        try lab.sh("ip -n \(pod) link set lo up")
        try lab.sh("ip -n \(pod) addr add 10.244.10.5/24 dev pod0p")
        try lab.sh("ip -n \(pod) link set pod0p up")
        try lab.sh("ip -n \(pod) route add default via 10.244.10.1")

        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s",
            nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10")
                + BGPLab.nodeYAML("node-b", podCIDR: "10.244.20.0/24", ip: "10.99.0.30"))
        _ = server
        let stateDir = try lab.dir("agent")
        let arguments = [
            "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-service-proxy=false",
            "--cluster-asn", "64512", "--state-dir", stateDir, "--health-port", "0",
        ]
        // Before the agent: the outside host cannot answer the pod (no route back to 10.244.10.0/24).
        #expect(try sourceSeen(lab, pod: pod, host: "x", at: "10.99.0.20", port: 8081) == nil)

        var agent = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        defer { agent.stop() }
        try lab.eventually(30, "the pod subnets' set holds both nodes' pod CIDRs") {
            let (_, sets) = Kernel.shell("ip netns exec \(lab.ns("s")) ipset list kube-router-pod-subnets")
            return sets.contains("10.244.10.0/24") && sets.contains("10.244.20.0/24")
        }
        let (_, nodeIPs) = Kernel.shell("ip netns exec \(lab.ns("s")) ipset list kube-router-node-ips")
        #expect(nodeIPs.contains("10.99.0.10") && nodeIPs.contains("10.99.0.30"), "\(nodeIPs)")
        try lab.eventually(10, "the masquerade rule in nat") {
            Kernel.shell("ip netns exec \(lab.ns("s")) iptables-legacy-save -t nat").1
                .contains("-j KUBE-ROUTER-POD-EGRESS")
        }
        // Outside the cluster: the node's address.
        #expect(try sourceSeen(lab, pod: pod, host: "x", at: "10.99.0.20", port: 8082) == "10.99.0.10")

        // x also stands for node-b's pods and node-b itself, with a route back to the pod: those keep the
        // pod's address.
        try lab.sh("ip -n \(lab.ns("x")) addr add 10.244.20.5/32 dev eth0")
        try lab.sh("ip -n \(lab.ns("x")) addr add 10.99.0.30/24 dev eth0")
        try lab.sh("ip -n \(lab.ns("x")) route add 10.244.10.0/24 via 10.99.0.10")
        try lab.sh("ip -n \(lab.ns("s")) route add 10.244.20.0/24 via 10.99.0.20")
        #expect(try sourceSeen(lab, pod: pod, host: "x", at: "10.244.20.5", port: 8083) == "10.244.10.5")
        #expect(try sourceSeen(lab, pod: pod, host: "x", at: "10.99.0.30", port: 8084) == "10.244.10.5")

        // Turned off: the next agent removes the chain, its hook and both sets; the pod's address shows.
        agent.stop()
        agent = try AgentRun(netns: lab.ns("s"), arguments: arguments + ["--enable-pod-egress=false"])
        try lab.eventually(30, "pod egress removed") {
            let nat = Kernel.shell("ip netns exec \(lab.ns("s")) iptables-legacy-save -t nat").1
            let sets = Kernel.shell("ip netns exec \(lab.ns("s")) ipset list -n").1
            return !nat.contains("KUBE-ROUTER-POD-EGRESS") && !sets.contains("kube-router-pod-subnets")
                && !sets.contains("kube-router-node-ips")
        }
        #expect(try sourceSeen(lab, pod: pod, host: "x", at: "10.99.0.20", port: 8085) == "10.244.10.5")
    }
}
