import Foundation
import Testing

@testable import KubeModel
@testable import Planning
@testable import Speaker

/// The BGP import policy (every class of refused prefix, a node's own pod CIDR from that node, reject
/// ranges from flags and annotations), the RIB's per-peer prefix count for the max-prefix limit,
/// graceful restart per address family, and AS4_PATH towards and from 2-octet AS speakers (RFC 6793).
@Suite struct BGPHardeningTests {
    static let nodes = """
        ---
        kind: Node
        metadata: {name: me, annotations: {kube-router.io/node.bgp.customimportreject: "198.51.100.0/24, bogus"}}
        spec: {podCIDR: 10.244.1.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.1}, {type: ExternalIP, address: 203.0.113.1}]}
        ---
        kind: Node
        metadata: {name: other}
        spec: {podCIDRs: [10.244.2.0/24, "fd00:2::/64"]}
        status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
        """

    func policy() throws -> (BGPImportPolicy, [String]) {
        let snapshot = ClusterSnapshot(try objects(Self.nodes))
        let services = try RouterSettings.cidrs("10.96.0.0/12,fd00:96::/108", origin: "--service-cluster-ip-range")
        let rejects = try RouterSettings.cidrs("192.0.2.0/24", origin: "--bgp-import-reject")
        var settings = RouterSettings(serviceRanges: services, importRejects: rejects)
        settings.localNetworks = [CIDR("10.0.0.0/24")!, CIDR("fd00:99::/64")!]
        let plan = RouterPlanner.plan(node: "me", nodes: snapshot.nodes, settings: settings, bgpPort: 179)
        return (plan.importPolicy, plan.problems)
    }

    @Test(arguments: [
        ("0.0.0.0/0", BGPImportPolicy.Reason.defaultRoute), ("::/0", .defaultRoute),
        ("10.244.1.0/24", .ownPodCIDR), ("10.244.1.10/32", .ownPodCIDR),
        ("10.244.2.128/25", .podCIDR), ("fd00:2::1/128", .podCIDR),
        ("10.0.0.1/32", .nodeAddress), ("203.0.113.1/32", .nodeAddress),
        ("10.0.0.0/24", .localNetwork), ("10.0.0.128/25", .localNetwork), ("fd00:99::/64", .localNetwork),
        ("10.96.0.0/12", .serviceRange), ("10.96.0.10/32", .serviceRange), ("fd00:96::1/128", .serviceRange),
        ("127.0.0.0/8", .loopback), ("127.0.0.1/32", .loopback), ("::1/128", .loopback),
        ("169.254.169.254/32", .linkLocal), ("fe80::/64", .linkLocal),
        ("224.0.0.0/4", .multicast), ("239.1.1.1/32", .multicast), ("ff02::/16", .multicast),
        ("0.0.0.0/8", .reserved), ("240.0.0.0/4", .reserved), ("255.255.255.255/32", .reserved),
        ("192.0.2.0/25", .customReject), ("198.51.100.7/32", .customReject),
    ])
    func everyClassOfHostileRouteIsRejected(prefix: String, reason: BGPImportPolicy.Reason) throws {
        let (policy, _) = try policy()
        let peer = IPAddress("10.0.0.9")!
        #expect(policy.rejection(CIDR(prefix)!, peer: peer, nextHop: peer) == reason)
    }

    @Test func anotherNodesPodCIDRIsAcceptedOnlyFromThatNode() throws {
        let (policy, problems) = try policy()
        let other = IPAddress("10.0.0.2")!
        let stranger = IPAddress("10.0.0.9")!
        let cidr = CIDR("10.244.2.0/24")!
        #expect(policy.rejection(cidr, peer: other, nextHop: other) == nil, "from the node itself")
        #expect(policy.rejection(cidr, peer: stranger, nextHop: other) == nil, "reflected, next hop the node")
        #expect(policy.rejection(cidr, peer: stranger, nextHop: stranger) == .podCIDR, "from anyone else")
        #expect(
            policy.rejection(CIDR("10.244.2.0/25")!, peer: other, nextHop: other) == .podCIDR,
            "a more-specific, even from the node")
        #expect(policy.rejection(CIDR("fd00:2::/64")!, peer: other, nextHop: other) == nil)
        // Ordinary routes pass; a bad annotation entry is reported and the good one applies.
        for good in ["172.20.0.0/16", "10.244.0.0/16", "10.0.0.0/8", "2001:db8::/32"] {
            #expect(policy.rejection(CIDR(good)!, peer: stranger, nextHop: stranger) == nil, "\(good)")
        }
        #expect(
            problems.contains { $0.contains(RouterPlanner.importRejectAnnotation) && $0.contains("\"bogus\"") },
            "\(problems)")
        // The policy without a node in the API still rejects the fixed classes.
        let bare = RouterPlanner.plan(node: "absent", nodes: [:], settings: RouterSettings(), bgpPort: 179).importPolicy
        #expect(bare.rejection(CIDR("127.0.0.0/8")!, peer: stranger, nextHop: stranger) == .loopback)
    }

    @Test func badCIDRFlagsAreNamed() {
        #expect {
            try RouterSettings.cidrs("10.96.0.0/12,10.300.0.0/16", origin: "--service-cluster-ip-range")
        } throws: { "\($0)".contains("--service-cluster-ip-range: \"10.300.0.0/16\" is not a CIDR") }
        #expect((try? RouterSettings.cidrs("", origin: "--bgp-import-reject")) == [])
    }

    func path(_ peer: String, external: Bool = false) -> BGPRib.Path {
        var a = BGPPathAttributes()
        a.origin = .igp
        a.asPath = []
        return BGPRib.Path(
            peer: IPAddress(peer)!, peerASN: 64512, peerRouterID: 1, external: external,
            nextHop: IPAddress(peer)!, attributes: a)
    }

    func announce(_ rib: inout BGPRib, _ prefixes: [String], _ p: BGPRib.Path) {
        let cidrs = prefixes.compactMap { CIDR($0) }
        var update = BGPUpdate(attributes: p.attributes, nlri: cidrs.filter { $0.family == .ipv4 })
        update.attributes.nextHop = p.nextHop
        let v6 = cidrs.filter { $0.family == .ipv6 }
        if !v6.isEmpty {
            update.attributes.mpReach = .init(afi: 2, safi: 1, nextHops: [IPAddress("fd00::9")!], nlri: v6)
        }
        rib.apply(update, from: p)
    }

    @Test func theRIBAppliesANewPolicyToStoredPathsAndCountsRejections() throws {
        var rib = BGPRib(localASN: 64512)
        let peer = path("10.0.0.9")
        announce(&rib, ["10.244.2.0/24", "172.20.0.0/16", "192.0.2.0/24"], peer)
        #expect(rib.kernelRoutes(proto: 201).count == 3, "no nodes or reject ranges yet")
        rib.policy = try policy().0
        #expect(rib.kernelRoutes(proto: 201).map(\.destination) == [CIDR("172.20.0.0/16")!])
        #expect(rib.counts(for: IPAddress("10.0.0.9")!) == (3, 1, 2))
        // The counts follow withdrawals and re-announcements without a walk through the RIB.
        rib.apply(BGPUpdate(withdrawn: [CIDR("192.0.2.0/24")!]), from: peer)
        #expect(rib.counts(for: IPAddress("10.0.0.9")!) == (2, 1, 1))
        announce(&rib, ["10.244.2.0/24"], peer)
        #expect(rib.counts(for: IPAddress("10.0.0.9")!) == (2, 1, 1))
        #expect(rib.paths.allSatisfy { prefix, list in list.allSatisfy { $0.verdict == rib.rejection(prefix, $0) } })
        rib.policy = BGPImportPolicy()
        #expect(rib.kernelRoutes(proto: 201).count == 2, "a looser policy lets the stored paths in again")
    }

    @Test func theReceivedCountFollowsAnnouncementsWithdrawalsAndDrops() {
        var rib = BGPRib(localASN: 64512)
        let a = path("10.0.0.9")
        let b = path("10.0.0.8")
        let many = (0..<2000).map { "10.\(100 + $0 / 256).\($0 % 256).0/24" }
        announce(&rib, many, a)
        announce(&rib, Array(many.prefix(10)), a)  // announced again: not counted twice
        announce(&rib, Array(many.prefix(5)), b)
        #expect(rib.receivedCount(a.peer) == 2000 && rib.receivedCount(b.peer) == 5)
        rib.apply(BGPUpdate(withdrawn: many.prefix(100).compactMap { CIDR($0) }), from: a)
        rib.apply(BGPUpdate(withdrawn: [CIDR("10.1.0.0/16")!]), from: a)  // never announced
        #expect(rib.receivedCount(a.peer) == 1900 && rib.receivedCount(b.peer) == 5)
        rib.dropPeer(a.peer)
        #expect(rib.receivedCount(a.peer) == 0 && rib.paths.count == 5 && rib.receivedCount(b.peer) == 5)
        // The storage of the 2,000 prefixes went with them.
        #expect(rib.paths.capacity < 100, "capacity \(rib.paths.capacity)")
    }

    @Test func gracefulRestartKeepsOnlyTheFamiliesThePeerListed() throws {
        var rib = BGPRib(localASN: 64512)
        let p = path("10.0.0.9")
        announce(&rib, ["172.20.0.0/16", "2001:db8::/32"], p)
        // The capability listed IPv4 unicast only: IPv6 routes go at once, IPv4 ones stay stale.
        let gr = BGPCapability.GracefulRestart(restarting: false, restartTime: 30, families: [(1, 1, false)])
        let open = BGPOpen(asn: 64512, holdTime: 3, identifier: 9, capabilities: [.gracefulRestart(gr)])
        #expect(BGPSpeaker.familiesKept(open) == [.ipv4])
        let changed = rib.dropPeer(p.peer, keepAsStale: BGPSpeaker.familiesKept(open))
        #expect(changed == [CIDR("2001:db8::/32")!])
        #expect(rib.kernelRoutes(proto: 201).map(\.destination) == [CIDR("172.20.0.0/16")!])
        #expect(rib.hasStale(p.peer, family: .ipv4))
        // Back without the F bit for IPv4: its stale routes go at once too (RFC 4724 §4.2).
        let back = BGPOpen(
            asn: 64512, holdTime: 3, identifier: 9,
            capabilities: [
                .gracefulRestart(
                    .init(restarting: true, restartTime: 30, families: [(1, 1, false), (2, 1, true)]))
            ])
        #expect(BGPSpeaker.familiesNotPreserved(back) == [.ipv4])
        #expect(BGPSpeaker.familiesNotPreserved(nil) == [.ipv4, .ipv6])
        for family in BGPSpeaker.familiesNotPreserved(back) { rib.purgeStale(p.peer, family: family) }
        #expect(rib.paths.isEmpty && !rib.hasStale(p.peer))
        // No graceful restart capability at all: nothing is kept.
        announce(&rib, ["172.20.0.0/16"], p)
        #expect(BGPSpeaker.familiesKept(BGPOpen(asn: 64512, holdTime: 3, identifier: 9, capabilities: [])).isEmpty)
    }

    // MARK: AS4_PATH

    func attributes(_ path: [UInt32], aggregator: UInt32? = nil) -> BGPPathAttributes {
        var a = BGPPathAttributes()
        a.origin = .igp
        a.asPath = [.init(.sequence, path)]
        a.nextHop = IPAddress("10.0.0.1")
        if let aggregator { a.aggregator = (aggregator, IPAddress("10.0.0.1")!) }
        return a
    }

    func encoded(_ a: BGPPathAttributes, fourOctet: Bool) -> [UInt8] {
        BGPMessage.update(BGPUpdate(attributes: a, nlri: [CIDR("10.244.10.0/24")!]))
            .encode(options: .init(fourOctetAS: fourOctet))
    }

    func decoded(_ bytes: [UInt8], fourOctet: Bool) throws -> BGPUpdate {
        guard case .update(let u) = try BGPMessage.decode(bytes, options: .init(fourOctetAS: fourOctet)) else {
            throw BGPError(0, 0, "not an UPDATE")
        }
        return u
    }

    @Test func aFourOctetASGoesToA2OctetPeerAsASTransWithAS4Path() throws {
        let a = attributes([4_200_000_010], aggregator: 4_200_000_010)
        let bytes = encoded(a, fourOctet: false)
        // On the wire: AS_PATH holds AS_TRANS; AS4_PATH and AS4_AGGREGATOR (optional transitive) the real AS.
        let twoOctet = try BGPPathAttributesProbe.attributes(bytes)
        #expect(twoOctet.asPath == [0x40, 2, 4, 2, 1, 0x5B, 0xA0], "AS_PATH: one sequence of AS_TRANS (23456)")
        #expect(twoOctet.as4Path == [0xC0, 17, 6, 2, 1, 0xFA, 0x56, 0xEA, 0x0A], "AS4_PATH: the real AS")
        #expect(twoOctet.as4Aggregator?.prefix(7) == [0xC0, 18, 8, 0xFA, 0x56, 0xEA, 0x0A])
        // A 2-octet peer path decodes back to the real one.
        let back = try decoded(bytes, fourOctet: false)
        #expect(back.attributes.asPath == a.asPath && back.attributes.aggregator?.asn == 4_200_000_010, "\(back)")
        #expect(back.attributes.unknown.isEmpty && back.discarded.isEmpty)
        // With a small AS, no AS4_PATH; to a 4-octet peer, never.
        #expect(try BGPPathAttributesProbe.attributes(encoded(attributes([65001]), fourOctet: false)).as4Path == nil)
        #expect(try BGPPathAttributesProbe.attributes(encoded(a, fourOctet: true)).as4Path == nil)
    }

    @Test func receivedAS4PathIsMergedAsRFC6793Says() throws {
        typealias S = BGPPathAttributes.Segment
        let trans = UInt32(BGPOpen.asTrans)
        // Two 2-octet speakers prepended 65001 and 65002 in front of a path with two 4-octet ASes.
        #expect(
            BGPPathAttributes.merge(
                asPath: [S(.sequence, [65001, 65002, trans, trans])],
                as4Path: [S(.sequence, [4_200_000_001, 4_200_000_002])])
                == [S(.sequence, [65001, 65002, 4_200_000_001, 4_200_000_002])])
        // An AS_SET counts as one; confederation segments are not counted.
        #expect(
            BGPPathAttributes.merge(
                asPath: [
                    S(.confedSequence, [65100]), S(.set, [65001, 65003]),
                    S(.sequence, [trans]),
                ],
                as4Path: [S(.sequence, [4_200_000_001])])
                == [S(.confedSequence, [65100]), S(.set, [65001, 65003]), S(.sequence, [4_200_000_001])])
        // An AS4_PATH longer than AS_PATH is ignored.
        #expect(
            BGPPathAttributes.merge(
                asPath: [S(.sequence, [trans])],
                as4Path: [S(.sequence, [4_200_000_001, 4_200_000_002])])
                == [S(.sequence, [trans])])

        // Through the decoder: an AGGREGATOR with a real 2-octet AS means the AS4 attributes are ignored.
        var withAggregator = attributes([4_200_000_010], aggregator: 65010)
        let bytes = encoded(withAggregator, fourOctet: false)
        let u = try decoded(bytes, fourOctet: false)
        #expect(u.attributes.asPath == [S(.sequence, [trans])] && u.attributes.aggregator?.asn == 65010)
        // From a 4-octet speaker an AS4_PATH is discarded, not merged (nor passed on).
        withAggregator.aggregator = nil
        var message = encoded(withAggregator, fourOctet: true)
        let as4Path: [UInt8] = [0xC0, 17, 6, 2, 1, 0, 0, 0xFD, 0xE9]  // AS4_PATH [65001]
        let attributesEnd = 23 + (Int(message[21]) << 8 | Int(message[22]))
        message.insert(contentsOf: as4Path, at: attributesEnd)
        let total = (Int(message[21]) << 8 | Int(message[22])) + as4Path.count
        message[21] = UInt8(total >> 8)
        message[22] = UInt8(total & 0xFF)
        message[16] = UInt8(message.count >> 8)
        message[17] = UInt8(message.count & 0xFF)
        let fromNew = try decoded(message, fourOctet: true)
        #expect(fromNew.attributes.asPath == withAggregator.asPath, "\(fromNew)")
        #expect(fromNew.discarded.contains { $0.contains("AS4_PATH") }, "\(fromNew)")
        #expect(fromNew.attributes.unknown.isEmpty)
    }
}

/// The raw attributes of an encoded UPDATE, by type, for checking the wire form.
enum BGPPathAttributesProbe {
    struct Found {
        var asPath: [UInt8]?
        var as4Path: [UInt8]?
        var as4Aggregator: [UInt8]?
    }

    static func attributes(_ message: [UInt8]) throws -> Found {
        var i = 19
        let withdrawn = Int(message[i]) << 8 | Int(message[i + 1])
        i += 2 + withdrawn
        let total = Int(message[i]) << 8 | Int(message[i + 1])
        i += 2
        let end = i + total
        var found = Found()
        while i < end {
            let flags = message[i]
            let type = message[i + 1]
            let extended = flags & 0x10 != 0
            let length = extended ? Int(message[i + 2]) << 8 | Int(message[i + 3]) : Int(message[i + 2])
            let header = extended ? 4 : 3
            let whole = Array(message[i..<i + header + length])
            switch type {
            case 2: found.asPath = whole
            case 17: found.as4Path = whole
            case 18: found.as4Aggregator = whole
            default: break
            }
            i += header + length
        }
        return found
    }
}
