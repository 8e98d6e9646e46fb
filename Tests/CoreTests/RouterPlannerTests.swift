import Testing

@testable import KubeModel
@testable import Planning

/// The router's plan from nodes, flags and annotations: local AS, router ID, prefixes, peers.
@Suite struct RouterPlannerTests {
    static let nodes = """
        ---
        kind: Node
        metadata: {name: n1, annotations: {kube-router.io/peer.ips: "192.0.2.1,192.0.2.2",
                                           kube-router.io/peer.asns: "65001,65002",
                                           kube-router.io/peer.passwords: "czNjcmV0,"}}
        spec: {podCIDR: 10.244.1.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
        ---
        kind: Node
        metadata: {name: n2}
        spec: {podCIDR: 10.244.2.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
        ---
        kind: Node
        metadata: {name: n3, annotations: {kube-router.io/node.asn: "64999"}}
        spec: {podCIDR: 10.244.3.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.3}]}
        ---
        kind: Node
        metadata: {name: n4, annotations: {kube-router.io/node.asn: "lots"}}
        status: {addresses: [{type: InternalIP, address: 10.0.0.4}]}
        """

    @Test func routerPlanFromNodesFlagsAndAnnotations() throws {
        let snapshot = ClusterSnapshot(try objects(Self.nodes))
        let external = try RouterSettings.peers(
            ips: "203.0.113.1", asns: "65100", passwords: "", ports: "1790", defaultPort: 179,
            origin: "--peer-router-ips")
        let plan = RouterPlanner.plan(
            node: "n1", nodes: snapshot.nodes, settings: RouterSettings(externalPeers: external), bgpPort: 179)
        #expect(
            plan.localASN == 64512 && plan.routerID == IPAddress("10.0.0.1")
                && plan.advertised == [CIDR("10.244.1.0/24")!])
        // The mesh: n2 (same AS) and n4 (bad annotation: the cluster AS, reported); not n3 (AS 64999).
        #expect(
            plan.peers.map(\.address.description) == ["10.0.0.2", "10.0.0.4", "203.0.113.1", "192.0.2.1", "192.0.2.2"])
        #expect(plan.peers.first { $0.address == IPAddress("203.0.113.1") }?.port == 1790)
        #expect(
            plan.peers.first { $0.address == IPAddress("192.0.2.1") }.map { ($0.asn, $0.password) } ?? (0, nil) == (
                65001, "s3cret"
            ))
        #expect(plan.problems.contains { $0.contains("n4") && $0.contains("kube-router.io/node.asn") })
        #expect(
            RouterPlanner.plan(node: "n3", nodes: snapshot.nodes, settings: RouterSettings(), bgpPort: 179).peers
                .isEmpty)
    }

    @Test(arguments: [
        ("10.0.0.1,10.0.0.2", "65001", "", "", "2 peer address(es) but 1 ASN(s)"),
        ("10.0.0.x", "65001", "", "", "is not an IP address"),
        ("10.0.0.1", "0", "", "", "is not an AS number"),
        ("10.0.0.1", "65001", "not base64!", "", "is not base64"),
        ("10.0.0.1", "65001", "", "99999", "is not a port"),
    ])
    func badPeerFlagsAreNamed(ips: String, asns: String, passwords: String, ports: String, message: String) {
        #expect {
            try RouterSettings.peers(
                ips: ips, asns: asns, passwords: passwords, ports: ports, defaultPort: 179, origin: "--peer-router-ips")
        } throws: { ($0 as? RouterConfigError)?.description.contains(message) == true }
    }
}
