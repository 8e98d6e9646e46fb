import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// kube-router's node annotations with BIRD: the peer comes from `kube-router.io/peers` alone (no flag), and
/// the routes BIRD receives carry the node's communities and its AS-path prepending; a changed communities
/// annotation reaches BIRD on the same session (no reset).
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct BGPAnnotationsKernelTests {
    static func node(communities: String) -> String {
        """
        ---
        kind: Node
        metadata:
          name: node-s
          annotations:
            kube-router.io/peers: |
              - remoteip: 10.99.0.1
                remoteasn: 64601
            kube-router.io/node.bgp.communities: "\(communities)"
            kube-router.io/path-prepend.as: "64512"
            kube-router.io/path-prepend.repeat-n: "2"
        spec: {podCIDR: 10.244.10.0/24}
        status: {addresses: [{type: InternalIP, address: 10.99.0.10}]}

        """
    }

    @Test func annotatedPeerGetsCommunitiesAndPrependedPath() throws {
        let lab = try BGPLab()
        try lab.addNode("a", ip: "10.99.0.1", podCIDR: "10.244.1.0/24", asn: 64601)
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        try lab.startBIRD("a", peers: [lab.nodes["s"]!])
        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: Self.node(communities: "no-export,65000:100"))
        let stateDir = try lab.dir("agent")
        let agent = try AgentRun(
            netns: lab.ns("s"),
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
                "--run-service-proxy=false", "--cluster-asn", "64512", "--bgp-holdtime", "3s",
                "--state-dir", stateDir, "--health-port", "0",
            ])
        defer { agent.stop() }
        #expect(agent.waitForPeer("10.99.0.1", stateDir: stateDir, timeout: 20), "\(agent.log)")
        let ctl = "\(lab.state)/a/bird.ctl"
        func route() -> String { Kernel.shell("birdc -s \(ctl) show route all 10.244.10.0/24").1 }
        func session() -> String {
            Kernel.shell("birdc -s \(ctl) show protocols peer0").1.split(separator: "\n")
                .first { $0.hasPrefix("peer0") }.map(String.init) ?? ""
        }
        do {
            try lab.eventually(15, "the pod CIDR in BIRD with its communities") {
                route().contains("BGP.community: (65535,65281) (65000,100)")
            }
        } catch {
            Issue.record("BIRD has: \(route())")
            throw error
        }
        #expect(route().contains("BGP.as_path: 64512 64512 64512"), "our AS, then the two prepended: \(route())")
        let established = session()
        #expect(established.contains("Established"), "\(established)")

        // Other communities: announced again on the same session.
        try NetworkNamespace.run(lab.ns("s")) { [config = server.config()] in
            let patch: JSONValue = .object([
                "metadata": .object([
                    "annotations": .object(["kube-router.io/node.bgp.communities": .string("65000:200")])
                ])
            ])
            _ = try KubeClient(config: config).patch(.nodes, namespace: nil, name: "node-s", mergePatch: patch)
        }
        try lab.eventually(15, "the new communities in BIRD") {
            route().contains("BGP.community: (65000,200)") && !route().contains("(65000,100)")
        }
        #expect(session() == established, "the session was not reset: \(session()) (was \(established))")
    }
}
