import Testing

@testable import KubeModel
@testable import Planning

/// Best-path selection, loop detection, our own prefixes, graceful restart's stale paths.
@Suite struct BGPRibTests {
    func path(
        _ peer: String, asn: UInt32 = 64512, external: Bool = false, localPref: UInt32? = nil, asPath: [UInt32] = [],
        med: UInt32? = nil, origin: BGPPathAttributes.Origin = .igp
    ) -> BGPRib.Path {
        var a = BGPPathAttributes()
        a.origin = origin
        a.asPath = asPath.isEmpty ? [] : [.init(.sequence, asPath)]
        a.localPref = localPref
        a.med = med
        a.nextHop = IPAddress(peer)
        return BGPRib.Path(
            peer: IPAddress(peer)!, peerASN: asn, peerRouterID: UInt32(truncatingIfNeeded: IPAddress(peer)!.low),
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
        #expect(
            rib.kernelRoutes(proto: 201) == [
                KernelRoute(destination: prefix, gateways: [IPAddress("10.0.0.2")!], proto: 201)
            ])
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
        rib.dropPeer(IPAddress("10.0.0.1")!, keepAsStale: [.ipv4, .ipv6])
        #expect(rib.kernelRoutes(proto: 201).count == 2, "forwarding goes on while the peer restarts")
        announce(&rib, "10.244.1.0/24", path("10.0.0.1"))  // re-announced after the restart
        rib.purgeStale(IPAddress("10.0.0.1")!)  // its End-of-RIB
        #expect(rib.kernelRoutes(proto: 201).map(\.destination) == [CIDR("10.244.1.0/24")!])
        rib.dropPeer(IPAddress("10.0.0.1")!)
        #expect(rib.kernelRoutes(proto: 201).isEmpty)
    }
}
