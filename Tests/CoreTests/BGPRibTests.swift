import Testing
@testable import KubeModel
@testable import Planning

/// Best-path selection, loop detection, our own prefixes, graceful restart's stale paths, and the
/// router's plan from nodes, flags and annotations.
@Suite struct BGPRibTests {
    func path(_ peer: String, asn: UInt32 = 64512, external: Bool = false, localPref: UInt32? = nil, asPath: [UInt32] = [],
              med: UInt32? = nil, origin: BGPPathAttributes.Origin = .igp) -> BGPRib.Path {
        var a = BGPPathAttributes()
        a.origin = origin
        a.asPath = asPath.isEmpty ? [] : [.init(.sequence, asPath)]
        a.localPref = localPref
        a.med = med
        a.nextHop = IPAddress(peer)
        return BGPRib.Path(peer: IPAddress(peer)!, peerASN: asn, peerRouterID: UInt32(truncatingIfNeeded: IPAddress(peer)!.low),
                           external: external, nextHop: IPAddress(peer)!, attributes: a)
    }

    func announce(_ rib: inout BGPRib, _ prefix: String, _ p: BGPRib.Path) {
        var update = BGPUpdate(attributes: p.attributes, nlri: [CIDR(prefix)!])
        update.attributes.nextHop = p.nextHop
        rib.apply(update, from: p)
    }

    @Test func bestPathFollowsRFC4271() {
        var rib = BGPRib(localASN: 64512)
        let prefix = CIDR("10.244.5.0/24")!
        announce(&rib, "10.244.5.0/24", path("10.0.0.3", asn: 65003, external: true, asPath: [65003, 65005]))
        announce(&rib, "10.244.5.0/24", path("10.0.0.2", asn: 65002, external: true, asPath: [65002]))
        #expect(rib.best(prefix)?.peer == IPAddress("10.0.0.2"), "shorter AS_PATH wins")
        announce(&rib, "10.244.5.0/24", path("10.0.0.4", localPref: 200, asPath: [65009, 65008, 65007]))
        #expect(rib.best(prefix)?.peer == IPAddress("10.0.0.4"), "higher LOCAL_PREF wins over path length")
        rib.apply(BGPUpdate(withdrawn: [prefix]), from: path("10.0.0.4"))
        #expect(rib.best(prefix)?.peer == IPAddress("10.0.0.2"), "withdrawn: the next best takes over")
        #expect(rib.kernelRoutes(proto: 201) == [KernelRoute(destination: prefix, gateways: [IPAddress("10.0.0.2")!], proto: 201)])
        // Equal length: lower ORIGIN, then eBGP over iBGP, then the lower router ID.
        var tie = BGPRib(localASN: 64512)
        announce(&tie, "10.1.0.0/16", path("10.0.0.9", origin: .incomplete))
        announce(&tie, "10.1.0.0/16", path("10.0.0.8", origin: .igp))
        #expect(tie.best(CIDR("10.1.0.0/16")!)?.peer == IPAddress("10.0.0.8"))
        announce(&tie, "10.1.0.0/16", path("10.0.0.7", asn: 65007, external: true))
        #expect(tie.best(CIDR("10.1.0.0/16")!)?.peer == IPAddress("10.0.0.7"))
    }

    @Test func loopsAndOwnPrefixesAreNeverInstalled() {
        var rib = BGPRib(localASN: 4_200_000_010, ownPrefixes: [CIDR("10.244.10.0/24")!])
        // FRR sends our own prefix back in eBGP, with our AS in the path.
        let back = path("10.99.0.2", asn: 4_200_000_002, external: true, asPath: [4_200_000_002, 4_200_000_010])
        announce(&rib, "10.244.10.0/24", back)
        announce(&rib, "10.244.7.0/24", back)
        #expect(rib.best(CIDR("10.244.10.0/24")!) == nil && rib.best(CIDR("10.244.7.0/24")!) == nil)
        #expect(rib.rejection(CIDR("10.244.10.0/24")!, back) == .ownPodCIDR)
        #expect(rib.rejection(CIDR("10.244.7.0/24")!, back) == .asLoop)
        #expect(rib.kernelRoutes(proto: 201).isEmpty)
        #expect(rib.counts(for: IPAddress("10.99.0.2")!) == (2, 0, 2))
    }

    @Test func gracefulRestartKeepsThenPurgesStalePaths() {
        var rib = BGPRib(localASN: 64512)
        announce(&rib, "10.244.1.0/24", path("10.0.0.1"))
        announce(&rib, "10.244.3.0/24", path("10.0.0.1"))
        rib.dropPeer(IPAddress("10.0.0.1")!, keepAsStale: true)
        #expect(rib.kernelRoutes(proto: 201).count == 2, "forwarding goes on while the peer restarts")
        announce(&rib, "10.244.1.0/24", path("10.0.0.1"))  // re-announced after the restart
        rib.purgeStale(IPAddress("10.0.0.1")!)            // its End-of-RIB
        #expect(rib.kernelRoutes(proto: 201).map(\.destination) == [CIDR("10.244.1.0/24")!])
        rib.dropPeer(IPAddress("10.0.0.1")!)
        #expect(rib.kernelRoutes(proto: 201).isEmpty)
    }

    static let nodes = """
    ---
    kind: Node
    metadata: {name: n1, annotations: {kube-router.io/peer.ips: "192.0.2.1,192.0.2.2", kube-router.io/peer.asns: "65001,65002", kube-router.io/peer.passwords: "czNjcmV0,"}}
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
        let external = try RouterSettings.peers(ips: "203.0.113.1", asns: "65100", passwords: "", ports: "1790", defaultPort: 179, origin: "--peer-router-ips")
        let plan = RouterPlanner.plan(node: "n1", nodes: snapshot.nodes, settings: RouterSettings(externalPeers: external), bgpPort: 179)
        #expect(plan.localASN == 64512 && plan.routerID == IPAddress("10.0.0.1") && plan.advertised == [CIDR("10.244.1.0/24")!])
        // The mesh: n2 (same AS) and n4 (bad annotation: the cluster AS, reported); not n3 (AS 64999).
        #expect(plan.peers.map(\.address.description) == ["10.0.0.2", "10.0.0.4", "203.0.113.1", "192.0.2.1", "192.0.2.2"])
        #expect(plan.peers.first { $0.address == IPAddress("203.0.113.1") }?.port == 1790)
        #expect(plan.peers.first { $0.address == IPAddress("192.0.2.1") }.map { ($0.asn, $0.password) } ?? (0, nil) == (65001, "s3cret"))
        #expect(plan.problems.contains { $0.contains("n4") && $0.contains("kube-router.io/node.asn") })
        #expect(RouterPlanner.plan(node: "n3", nodes: snapshot.nodes, settings: RouterSettings(), bgpPort: 179).peers.isEmpty)
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
            try RouterSettings.peers(ips: ips, asns: asns, passwords: passwords, ports: ports, defaultPort: 179, origin: "--peer-router-ips")
        } throws: { ($0 as? RouterConfigError)?.description.contains(message) == true }
    }
}
