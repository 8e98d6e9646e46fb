import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// Route reflection (RFC 4456) with real agents and BIRD: one reflector node (`kube-router.io/rr.server`), three
/// client nodes (`kube-router.io/rr.client`) that peer with the reflector alone, and BIRD as a non-client iBGP
/// peer of the reflector. Every client gets the others' pod CIDRs with their own next hops and pods ping across;
/// BIRD sees the reflected routes with ORIGINATOR_ID and CLUSTER_LIST, and its own route reaches the clients;
/// a client that goes takes its route from the others.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct RouteReflectorKernelTests {
    @Test func oneReflectorThreeClientsAndBIRDConverge() throws {
        let lab = try BGPLab()
        let names = ["r", "c1", "c2", "c3"]
        for (i, name) in names.enumerated() {
            try lab.addNode(name, ip: "10.99.0.\(10 + i)", podCIDR: "10.244.\(10 + i).0/24", asn: 64512)
        }
        try lab.addNode("b", ip: "10.99.0.30", podCIDR: "10.244.30.0/24", asn: 64512)
        try lab.startBIRD("b", peers: [lab.nodes["r"]!])
        var nodes = ""
        for (i, name) in names.enumerated() {
            let annotations =
                name == "r"
                ? "{kube-router.io/rr.server: \"42\", kube-router.io/peer.ips: 10.99.0.30, "
                    + "kube-router.io/peer.asns: \"64512\"}"
                : "{kube-router.io/rr.client: \"42\"}"
            nodes += """
                ---
                kind: Node
                metadata: {name: \(name), annotations: \(annotations)}
                spec: {podCIDR: 10.244.\(10 + i).0/24}
                status: {addresses: [{type: InternalIP, address: 10.99.0.\(10 + i)}]}

                """
        }
        var servers: [TestAPIServer] = []
        var agents: [String: AgentRun] = [:]
        for name in names {
            let (server, kubeconfig) = try lab.startAPIServer(in: name, nodes: nodes)
            servers.append(server)
            agents[name] = try AgentRun(
                netns: lab.ns(name),
                arguments: [
                    "--kubeconfig", kubeconfig, "--hostname-override", name, "--run-firewall=false",
                    "--run-service-proxy=false", "--cluster-asn", "64512", "--bgp-holdtime", "3s",
                    "--state-dir", try lab.dir("state-\(name)"), "--health-port", "0",
                ])
        }
        defer { agents.values.forEach { $0.stop() } }
        let clients = names.filter { $0 != "r" }
        for name in clients {
            let state = try lab.dir("state-\(name)")
            #expect(agents[name]!.waitForPeer("10.99.0.10", stateDir: state), "\(name):\n\(agents[name]!.log)")
            let peers = agents[name]!.bgpPeers(stateDir: state)?.map(\.address)
            #expect(peers == ["10.99.0.10"], "a client peers with the reflector alone: \(peers ?? [])")
        }
        let reflectorState = try lab.dir("state-r")
        #expect(agents["r"]!.waitForPeer("10.99.0.30", stateDir: reflectorState), "\(agents["r"]!.log)")
        let reflectorPeers = agents["r"]!.bgpPeers(stateDir: reflectorState) ?? []
        #expect(reflectorPeers.count == 4)
        #expect(
            reflectorPeers.filter { $0.routeReflectorClient == true }.map(\.address).sorted() == [
                "10.99.0.11", "10.99.0.12", "10.99.0.13",
            ])

        // Each client: the other clients' pod CIDRs via their own addresses (the reflector keeps the next
        // hop), the reflector's, and BIRD's, reflected from a non-client.
        for (i, name) in names.enumerated() where name != "r" {
            do {
                try lab.eventually(15, "\(name) has every other pod CIDR") {
                    let r = lab.routes(name, proto: "201")
                    return names.indices.filter { $0 != i }.allSatisfy {
                        r.contains("10.244.\(10 + $0).0/24 via 10.99.0.\(10 + $0)")
                    } && r.contains("10.244.30.0/24 via 10.99.0.30")
                }
            } catch {
                Issue.record("\(name) has:\n\(lab.routes(name, proto: "201"))\nreflector:\n\(agents["r"]!.log)")
                throw error
            }
        }
        for (i, name) in clients.enumerated() {
            for (j, other) in clients.enumerated() where j != i {
                let ping = Kernel.shell(
                    "ip netns exec \(lab.ns(name)) ping -c 1 -W 2 -I 10.244.\(11 + i).1 10.244.\(11 + j).1")
                #expect(ping.0 == 0, "\(name) → \(other): \(ping.1)")
            }
        }
        // BIRD, a non-client, gets the clients' routes with the reflection attributes.
        let ctl = "\(lab.state)/b/bird.ctl"
        func bird(_ prefix: String) -> String { Kernel.shell("birdc -s \(ctl) show route all \(prefix)").1 }
        try lab.eventually(15, "BIRD has c1's pod CIDR") { bird("10.244.11.0/24").contains("BGP.originator_id") }
        let reflected = bird("10.244.11.0/24")
        #expect(reflected.contains("BGP.originator_id: 10.99.0.11"), "\(reflected)")
        #expect(reflected.contains("BGP.cluster_list: 0.0.0.42"), "\(reflected)")
        #expect(reflected.contains("BGP.next_hop: 10.99.0.11"), "the next hop stays: \(reflected)")
        let own = bird("10.244.10.0/24")
        #expect(own.contains("10.244.10.0/24") && !own.contains("BGP.cluster_list"), "r's own route: \(own)")

        // A client goes: the reflector withdraws its route from the others.
        agents["c3"]!.stop()
        for name in ["c1", "c2"] {
            try lab.eventually(15, "\(name) no longer has c3's pod CIDR") {
                !lab.routes(name, proto: "201").contains("10.244.13.0/24")
            }
        }
        try lab.eventually(15, "BIRD no longer has c3's pod CIDR") { !bird("10.244.13.0/24").contains("10.99.0.13") }
        let status = agents["r"]!.bgpPeers(stateDir: reflectorState)?.first { $0.address == "10.99.0.11" }
        #expect(status?.prefixesReflected == 2, "c2's and BIRD's routes go to c1: \(String(describing: status))")
        _ = servers
    }
}
